// Bot messages arrive as HTML the sandbox rebuilt from a whitelist of tags (render_html); everything
// else on this page is set with textContent.
const $ = (id) => document.getElementById(id);
let lastSnapshot = "";
function user() {
  return {user_id: Number($("user-id").value), first_name: $("first-name").value,
          username: $("username").value, language_code: $("language").value};
}
async function post(path, extra) {
  $("status").textContent = "";
  const response = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                      body: JSON.stringify({...user(), ...extra})});
  const result = await response.json();
  if (!response.ok || result.ok === false) {
    $("status").textContent = result.description || result.error || ("HTTP " + (result.status || response.status));
  }
  await refresh();
  return result;
}
function renderMessage(message) {
  const box = document.createElement("div");
  box.className = "message " + message.from + (message.edited ? " edited" : "");
  box.dataset.messageId = String(message.message_id);
  const body = document.createElement("div");
  body.className = "body";
  body.innerHTML = message.html;
  body.querySelectorAll("code").forEach((code) => code.addEventListener("click",
    () => navigator.clipboard && navigator.clipboard.writeText(code.textContent)));
  box.append(body);
  if (message.buttons.length) {
    const buttons = document.createElement("div");
    buttons.className = "buttons";
    for (const row of message.buttons) {
      const line = document.createElement("div");
      line.className = "row";
      for (const button of row) {
        const element = document.createElement("button");
        element.type = "button";
        element.textContent = button.text;
        if (button.callback_data !== undefined) {
          element.dataset.callbackData = button.callback_data;
          element.addEventListener("click", () => post("/_sandbox/chat/press",
            {message_id: message.message_id, data: button.callback_data}));
        } else if (button.pay) {
          element.addEventListener("click", () => post("/_sandbox/stars/pay", {invoice: button.pay}));
        } else if (button.web_app) {
          element.addEventListener("click", () => openStore(button.web_app.url));
        } else if (button.url) {
          element.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
        }
        line.append(element);
      }
      buttons.append(line);
    }
    box.append(buttons);
  }
  return box;
}
function renderKeyboard(keyboard) {
  const area = $("keyboard");
  area.replaceChildren();
  if (!keyboard) return;
  for (const row of keyboard.keyboard) {
    for (const button of row) {
      const text = typeof button === "string" ? button : button.text;
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = text;
      if (button.request_users) {
        element.addEventListener("click", () => {
          const picked = prompt("Share which user? id,name[,username]", "2002,Bob,bob_local");
          if (!picked) return;
          const [id, name, username] = picked.split(",").map((part) => part.trim());
          post("/_sandbox/chat/share", {request_id: button.request_users.request_id,
                                        shared: {user_id: Number(id), first_name: name, username: username}});
        });
      } else {
        element.addEventListener("click", () => post("/_sandbox/chat/send", {text: text}));
      }
      area.append(element);
    }
  }
}
async function refresh() {
  try {
    const response = await fetch("/_sandbox/chats/" + Number($("user-id").value), {cache: "no-store"});
    const chat = await response.json();
    const snapshot = JSON.stringify(chat);
    if (snapshot === lastSnapshot) return;
    lastSnapshot = snapshot;
    $("messages").replaceChildren(...chat.messages.map(renderMessage));
    renderKeyboard(chat.keyboard);
    window.scrollTo(0, document.body.scrollHeight);
  } catch (error) {
    // the sandbox may be restarting; the next tick tries again
  }
}
$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value;
  if (!text.trim()) return;
  $("text").value = "";
  post("/_sandbox/chat/send", {text: text});
});
$("pay").addEventListener("click", () => post("/_sandbox/chat/pay", {}));
function openStore(url) {
  const query = new URLSearchParams({...user(), ...(url ? {url: url} : {})});
  window.open("/_sandbox/miniapp?" + query.toString(), "_blank", "noopener");
}
$("store").addEventListener("click", () => openStore(""));
$("user-id").addEventListener("change", () => { lastSnapshot = ""; refresh(); });
setInterval(refresh, 700);
refresh();
