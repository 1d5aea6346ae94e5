/* The tgshop storefront: a Telegram Mini App in plain JavaScript (no framework, no build step).
   Every call carries Telegram's signed init data (X-Telegram-Init-Data); the server checks its signature and age. */
(function () {
  "use strict";
  var TEXTS = {
    en: {
      title: "Telegram Premium", subtitle: "A gift for you or a friend, delivered in minutes.",
      tab_shop: "Shop", tab_orders: "Orders", tab_wallet: "Wallet", months: "{n} months",
      choose_plan: "Choose a plan", recipient: "Who gets it", myself: "Myself", friend: "A friend",
      friend_id: "Friend's Telegram user ID", pay_with: "Pay with", pay_stars: "⭐ Pay {n} Stars",
      pay_transfer: "Transfer {amount} USDT (TRC20)", pay_balance: "💰 Pay from balance ({amount} USDT)",
      send_exactly: "Send exactly", to_address: "To this TRC20 address", copy: "Copy", copied: "Copied",
      time_left: "Time left to pay", order: "Order", status: "Status", step_pending: "Waiting for payment",
      step_paid: "Paid", step_delivering: "Sending the gift", step_delivered: "Delivered",
      FAILED: "Failed", EXPIRED: "Expired", CANCELLED: "Cancelled", NEEDS_REVIEW: "Being checked",
      WAITING_STARS: "Queued", PENDING: "Waiting for payment", PAID: "Paid", PAID_LATE: "Paid",
      DELIVERING: "Sending", DELIVERED: "Delivered", no_orders: "No orders yet.", balance: "Balance",
      history: "History", no_history: "Nothing here yet.", back: "← Back to the shop", invoice_closed: "Payment not completed.",
      cancel_order: "Cancel order", outside: "Open this store from the bot in Telegram.", for_whom: "For",
      bad_friend: "Enter your friend's numeric Telegram ID.", refunded_stars: "Refunded in Stars",
      purpose_payment: "Payment", purpose_balance_payment: "Purchase", purpose_credit: "Credit",
      purpose_refund: "Refund", purpose_adjustment: "Adjustment", purpose_suspense: "Held", purpose_returned: "Returned"
    },
    zh: {
      title: "Telegram Premium", subtitle: "送给自己或朋友，几分钟内送达。",
      tab_shop: "商店", tab_orders: "订单", tab_wallet: "钱包", months: "{n} 个月",
      choose_plan: "选择套餐", recipient: "赠送给", myself: "我自己", friend: "朋友",
      friend_id: "朋友的 Telegram 用户 ID", pay_with: "支付方式", pay_stars: "⭐ 支付 {n} Stars",
      pay_transfer: "转账 {amount} USDT (TRC20)", pay_balance: "💰 余额支付（{amount} USDT）",
      send_exactly: "请准确转账", to_address: "至此 TRC20 地址", copy: "复制", copied: "已复制",
      time_left: "剩余支付时间", order: "订单", status: "状态", step_pending: "等待付款",
      step_paid: "已付款", step_delivering: "正在赠送", step_delivered: "已送达",
      FAILED: "失败", EXPIRED: "已过期", CANCELLED: "已取消", NEEDS_REVIEW: "核查中",
      WAITING_STARS: "排队中", PENDING: "等待付款", PAID: "已付款", PAID_LATE: "已付款",
      DELIVERING: "赠送中", DELIVERED: "已送达", no_orders: "暂无订单。", balance: "余额",
      history: "记录", no_history: "暂无记录。", back: "← 返回商店", invoice_closed: "支付未完成。",
      cancel_order: "取消订单", outside: "请在 Telegram 中通过机器人打开本商店。", for_whom: "赠送给",
      bad_friend: "请输入朋友的数字 Telegram ID。", refunded_stars: "已退还 Stars",
      purpose_payment: "付款", purpose_balance_payment: "购买", purpose_credit: "入账",
      purpose_refund: "退款", purpose_adjustment: "调整", purpose_suspense: "暂挂", purpose_returned: "退回"
    },
    ru: {
      title: "Telegram Premium", subtitle: "Подарок себе или другу — за пару минут.",
      tab_shop: "Магазин", tab_orders: "Заказы", tab_wallet: "Кошелёк", months: "{n} мес.",
      choose_plan: "Выберите срок", recipient: "Кому", myself: "Себе", friend: "Другу",
      friend_id: "Telegram ID друга", pay_with: "Оплата", pay_stars: "⭐ Оплатить {n} звёзд",
      pay_transfer: "Перевод {amount} USDT (TRC20)", pay_balance: "💰 С баланса ({amount} USDT)",
      send_exactly: "Переведите ровно", to_address: "На этот адрес TRC20", copy: "Копировать", copied: "Скопировано",
      time_left: "Осталось времени", order: "Заказ", status: "Статус", step_pending: "Ожидает оплаты",
      step_paid: "Оплачен", step_delivering: "Дарим подписку", step_delivered: "Доставлен",
      FAILED: "Не выполнен", EXPIRED: "Истёк", CANCELLED: "Отменён", NEEDS_REVIEW: "На проверке",
      WAITING_STARS: "В очереди", PENDING: "Ожидает оплаты", PAID: "Оплачен", PAID_LATE: "Оплачен",
      DELIVERING: "Дарим", DELIVERED: "Доставлен", no_orders: "Заказов пока нет.", balance: "Баланс",
      history: "История", no_history: "Пока пусто.", back: "← В магазин", invoice_closed: "Оплата не завершена.",
      cancel_order: "Отменить заказ", outside: "Откройте магазин из бота в Telegram.", for_whom: "Кому",
      bad_friend: "Введите числовой Telegram ID друга.", refunded_stars: "Звёзды возвращены",
      purpose_payment: "Оплата", purpose_balance_payment: "Покупка", purpose_credit: "Зачисление",
      purpose_refund: "Возврат", purpose_adjustment: "Корректировка", purpose_suspense: "Удержано",
      purpose_returned: "Возвращено"
    }
  };
  var TERMINAL = ["DELIVERED", "FAILED", "EXPIRED", "CANCELLED", "NEEDS_REVIEW"];
  var POLL_MS = 2000;

  var webApp = (window.Telegram && window.Telegram.WebApp) || null;
  var initData = webApp ? webApp.initData : "";
  var user = (webApp && webApp.initDataUnsafe && webApp.initDataUnsafe.user) || {};
  var lang = String(user.language_code || navigator.language || "en").slice(0, 2).toLowerCase();
  if (!TEXTS[lang]) { lang = "en"; }
  var view = document.getElementById("view");
  var timers = [];
  var state = { catalog: [], plan: null, forFriend: false, friend: "" };

  function t(key, values) {
    var text = TEXTS[lang][key] || TEXTS.en[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.replace("{" + name + "}", values[name]); });
    return text;
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else if (name.slice(0, 2) === "on") { node.addEventListener(name.slice(2), attrs[name]); }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function show(nodes) {
    timers.forEach(clearInterval); timers = [];
    view.replaceChildren.apply(view, nodes.filter(Boolean));
    window.scrollTo(0, 0);
  }
  function toast(text) {
    var box = document.getElementById("toast");
    box.textContent = text; box.hidden = false;
    setTimeout(function () { box.hidden = true; }, 1600);
  }
  function api(method, path, body) {
    var headers = { "X-Telegram-Init-Data": initData };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      if (method === "POST" && path === "orders") { headers["Idempotency-Key"] = uuid(); }
    }
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) { throw new Error((data.error && data.error.message) || response.statusText); }
          return data;
        });
      });
  }
  function uuid() {
    return window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }
  function failure(error) { return el("p", { class: "error", text: error.message || String(error) }); }
  function copyRow(label, value, id) {
    return el("div", { class: "row" }, [
      el("div", {}, [el("div", { class: "label", text: label }), el("div", { class: "value mono", id: id, text: value })]),
      el("button", { class: "copy", type: "button", "data-copy": id, onclick: function () {
        (navigator.clipboard ? navigator.clipboard.writeText(value) : Promise.reject())
          .catch(function () { return undefined; }).then(function () { toast(t("copied")); });
      }, text: t("copy") })]);
  }

  // ---------------------------------------------------------------- the shop
  function shop() {
    api("GET", "store/catalog").then(function (data) {
      state.catalog = data.products.filter(function (product) { return product.month_count; });
      state.plan = state.plan || state.catalog[0];
      renderShop();
    }).catch(function (error) { show([failure(error)]); });
  }
  function renderShop(problem) {
    var plans = state.catalog.map(function (product) {
      return el("button", { type: "button", class: "plan" + (product === state.plan ? " selected" : ""),
                            "data-product": product.product_id, onclick: function () { state.plan = product; renderShop(); } }, [
        el("span", { class: "badge", text: "⭐" }),
        el("span", { class: "name", text: t("months", { n: product.month_count }) }),
        el("span", { class: "prices" }, [el("div", { class: "usdt", text: product.price + " USDT" }),
          product.star_price ? el("div", { class: "stars", text: product.star_price + " ⭐" }) : null])]);
    });
    var friend = el("input", { id: "friend", inputmode: "numeric", placeholder: t("friend_id"), value: state.friend,
                               oninput: function (event) { state.friend = event.target.value.trim(); } });
    var plan = state.plan;
    show([
      el("div", { class: "section-title", text: t("choose_plan") }), el("div", { class: "plans" }, plans),
      el("div", { class: "section-title", text: t("recipient") }),
      el("div", { class: "choice" }, [
        el("button", { type: "button", id: "for-me", class: "toggle" + (state.forFriend ? "" : " on"),
                       onclick: function () { state.forFriend = false; renderShop(); }, text: t("myself") }),
        el("button", { type: "button", id: "for-friend", class: "toggle" + (state.forFriend ? " on" : ""),
                       onclick: function () { state.forFriend = true; renderShop(); }, text: t("friend") })]),
      state.forFriend ? friend : null,
      el("div", { class: "section-title", text: t("pay_with") }),
      plan && plan.star_price ? el("button", { type: "button", class: "btn", id: "pay-stars",
        onclick: function () { order("stars"); }, text: t("pay_stars", { n: plan.star_price }) }) : null,
      plan ? el("button", { type: "button", class: "btn secondary", id: "pay-transfer",
        onclick: function () { order("trc20"); }, text: t("pay_transfer", { amount: plan.price }) }) : null,
      plan ? el("button", { type: "button", class: "btn outline", id: "pay-balance",
        onclick: function () { order("balance"); }, text: t("pay_balance", { amount: plan.price }) }) : null,
      problem ? failure(problem) : null
    ]);
  }
  function order(method) {
    var body = { product_id: state.plan.product_id, payment_method: method };
    if (state.forFriend) {
      if (!/^[1-9][0-9]{0,15}$/.test(state.friend)) { renderShop(new Error(t("bad_friend"))); return; }
      body.recipient_user_id = Number(state.friend);
    }
    Array.prototype.forEach.call(document.querySelectorAll(".btn"), function (b) { b.disabled = true; });
    api("POST", "orders", body).then(function (placed) {
      if (method !== "stars") { return status(placed); }
      return api("POST", "orders/" + placed.order_id + "/stars-invoice", {}).then(function (invoice) {
        webApp.openInvoice(invoice.invoice_link, function (outcome) {
          if (outcome !== "paid") { toast(t("invoice_closed")); }
          status(placed);
        });
      });
    }).catch(function (error) { renderShop(error); });
  }

  // ---------------------------------------------------------------- one order, live
  function steps(order) {
    var reached = { PENDING: 0, PAID: 1, PAID_LATE: 1, WAITING_STARS: 1, DELIVERING: 2, DELIVERED: 3 }[order.status];
    if (reached === undefined) { return el("p", { class: "status " + order.status, id: "order-status", text: t(order.status) }); }
    var names = ["step_pending", "step_paid", "step_delivering", "step_delivered"];
    return el("ol", { class: "steps", id: "order-steps", "data-status": order.status }, names.map(function (name, index) {
      return el("li", { class: index < reached || order.status === "DELIVERED" ? "done" : index === reached ? "now" : "",
                        text: t(name) });
    }));
  }
  function status(order) {
    render(order);
    if (TERMINAL.indexOf(order.status) < 0) {
      timers.push(setInterval(function () {
        api("GET", "orders/" + order.order_id).then(function (fresh) {
          if (fresh.status !== order.status) { order = fresh; status(fresh); }
        }).catch(function () { return undefined; });
      }, POLL_MS));
    }
  }
  function render(order) {
    var pay = order.payment || {};
    var waitingTransfer = order.status === "PENDING" && order.payment_method === "trc20";
    var countdown = el("div", { class: "countdown", id: "countdown" });
    var nodes = [
      el("div", { class: "card" }, [
        el("div", { class: "row" }, [el("span", { class: "label", text: t("order") }),
                                     el("span", { class: "value mono", text: order.order_id })]),
        el("div", { class: "row" }, [el("span", { class: "label", text: t("for_whom") }),
                                     el("span", { class: "value", text: order.recipient_user_id === user.id ? t("myself")
                                       : String(order.recipient_user_id || "") })]),
        el("div", { class: "row" }, [el("span", { class: "label", text: t("months", { n: order.month_count || "" }) }),
                                     el("span", { class: "value", text: order.amount + " " + (order.currency === "XTR" ? "⭐" : order.currency) })]),
        steps(order),
        order.status === "FAILED" && order.currency === "XTR"
          ? el("p", { class: "hint", id: "refund-note", text: t("refunded_stars") + ": " + order.amount + " ⭐" }) : null])];
    if (waitingTransfer) {
      nodes.push(el("div", { class: "card", id: "transfer" }, [
        copyRow(t("send_exactly") + " (USDT)", pay.amount, "pay-amount"),
        copyRow(t("to_address"), pay.pay_to, "pay-address"),
        el("div", { class: "label", text: t("time_left") }), countdown]));
      if (pay.expires_at) { tick(countdown, new Date(pay.expires_at)); }
      nodes.push(el("button", { type: "button", class: "btn outline", onclick: function () {
        api("POST", "orders/" + order.order_id + "/cancel", {}).then(status).catch(function (e) { toast(e.message); });
      }, text: t("cancel_order") }));
    }
    nodes.push(el("button", { type: "button", class: "btn secondary", onclick: function () { tab("shop"); }, text: t("back") }));
    show(nodes);
    if (waitingTransfer && pay.expires_at) {
      timers.push(setInterval(function () { tick(countdown, new Date(pay.expires_at)); }, 1000));
    }
  }
  function tick(node, deadline) {
    var left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
    node.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
  }

  // ---------------------------------------------------------------- orders and wallet
  function orders() {
    api("GET", "orders?limit=20").then(function (data) {
      if (!data.orders.length) { show([el("p", { class: "empty", text: t("no_orders") })]); return; }
      show(data.orders.map(function (item) {
        return el("button", { type: "button", class: "card order", "data-order": item.order_id,
                              onclick: function () { status(item); } }, [
          el("div", { class: "row" }, [el("b", { text: t("months", { n: item.month_count || "" }) }),
                                       el("span", { class: "status " + item.status, text: t(item.status) })]),
          el("div", { class: "hint", text: item.amount + " " + (item.currency === "XTR" ? "⭐" : item.currency) +
                                           " · " + (item.created_at || "").replace("T", " ").slice(0, 16) })]);
      }));
    }).catch(function (error) { show([failure(error)]); });
  }
  function wallet() {
    Promise.all([api("GET", "wallet"), api("GET", "wallet/history?limit=20")]).then(function (both) {
      var lines = both[1].entries.map(function (line) {
        return el("div", { class: "row" }, [
          el("div", {}, [el("div", { text: t("purpose_" + line.purpose) }),
                         el("div", { class: "label", text: (line.posted_at || "").replace("T", " ").slice(0, 16) })]),
          el("div", { class: "value", text: (line.amount.charAt(0) === "-" ? "" : "+") + line.amount + " " + line.currency })]);
      });
      show([el("div", { class: "card" }, [el("div", { class: "label", text: t("balance") }),
                                          el("div", { class: "big", id: "balance", text: both[0].wallet.balance + " " + both[0].wallet.currency })]),
            el("div", { class: "section-title", text: t("history") }),
            lines.length ? el("div", { class: "card" }, lines) : el("p", { class: "empty", text: t("no_history") })]);
    }).catch(function (error) { show([failure(error)]); });
  }
  function tab(name) {
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (button) {
      button.classList.toggle("active", button.getAttribute("data-tab") === name);
    });
    ({ shop: shop, orders: orders, wallet: wallet })[name]();
  }

  document.documentElement.lang = lang;
  Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (node) {
    node.textContent = t(node.getAttribute("data-t"));
  });
  Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (button) {
    button.addEventListener("click", function () { tab(button.getAttribute("data-tab")); });
  });
  if (!initData) { show([el("p", { class: "empty", text: t("outside") })]); return; }
  if (webApp) { webApp.ready(); webApp.expand(); }
  tab("shop");
})();
