// Rows are rebuilt with textContent only, so recorded params can never inject markup.
const tableBody = document.getElementById("calls");
function cell(content) {
  const td = document.createElement("td");
  td.append(content);
  return td;
}
function renderRow(call) {
  const row = document.createElement("tr");
  if (call.status >= 400) row.className = "failed";
  const params = document.createElement("pre");
  params.textContent = JSON.stringify(call.params, null, 2);
  row.append(cell(String(call.seq)), cell(call.method), cell(params), cell(String(call.status)), cell(call.at));
  return row;
}
async function refresh() {
  try {
    const response = await fetch("/_sandbox/calls", {cache: "no-store"});
    const calls = await response.json();
    tableBody.replaceChildren(...calls.map(renderRow));
    document.getElementById("count").textContent = String(calls.length);
  } catch (error) {
    // the sandbox may be restarting; the next tick tries again
  }
}
setInterval(refresh, 2000);
