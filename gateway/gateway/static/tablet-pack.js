// The pack station: scan a tote (or an order number) to open the picked order, scan every
// unit again to check it (the server keeps the count, so a reload or another tablet shows the
// same progress), choose the box (the smallest that fits is suggested), weigh, pack: the
// label opens. The last packed orders stay listed so their labels can be printed again.
(() => {
  const { $, t, say } = Tablet;
  const recent = [];  // the last packed orders, newest first
  const RECENT = 5;
  const OPEN_KEY = "gudang.packOrder";  // the order open at this station, reopened on reload
  let order = null;  // the station's view of the open order
  let box = null;  // the chosen box code
  let queue = [];  // orders the pick screen handed over: {order_id, external_id}

  const ref = (o) => o.external_id || o.order_id;

  async function printLabel(orderId) {
    try {
      await Tablet.openPdf(`/warehouse/orders/${encodeURIComponent(orderId)}/label.pdf`);
      say(() => t("labelOpened"), "ok");
    } catch (e) { if (e.code === "NOT_FOUND") say(() => t("noLabel"), "error"); else Tablet.sayProblem(e); }
  }

  function renderRecent() {
    const card = $("recent"), ul = card.querySelector("ul");
    ul.innerHTML = "";
    card.classList.toggle("hidden", recent.length === 0);
    recent.forEach((r) => {
      const li = document.createElement("li");
      li.innerHTML = `<span></span><button type="button" class="secondary reprint" data-t="reprint"></button>`;
      li.querySelector("span").textContent = `${r.ref} · ${r.awb ? r.courier.toUpperCase() + " " + r.awb : "…"}`;
      const b = li.querySelector("button");
      b.textContent = t("reprint"); b.dataset.order = r.order_id;
      b.addEventListener("click", () => printLabel(r.order_id));
      ul.appendChild(li);
    });
  }

  function renderQueue() {
    const card = $("packQueue"), chips = card.querySelector(".chips");
    const waiting = queue.filter((o) => !recent.some((r) => r.order_id === o.order_id));
    chips.innerHTML = "";
    card.classList.toggle("hidden", waiting.length === 0 || Boolean(order));
    waiting.forEach((o) => {
      const b = document.createElement("button");
      b.type = "button"; b.className = "secondary"; b.textContent = ref(o); b.dataset.order = o.order_id;
      b.addEventListener("click", () => openOrder(o.order_id));
      chips.appendChild(b);
    });
  }

  function itemRow(item) {
    const li = document.createElement("li");
    li.className = "item" + (item.verified >= item.qty ? " done" : "");
    li.dataset.sku = item.sku;
    li.innerHTML = `<div><div class="name"></div><div class="sku"></div></div>
      <div class="count"><span class="n"></span> <small data-t="checked"></small></div>`;
    li.querySelector(".name").textContent = item.name || item.sku;
    li.querySelector(".sku").textContent = item.sku + (item.barcode && item.barcode !== item.sku ? " · " + item.barcode : "");
    li.querySelector(".n").textContent = `${item.verified} / ${item.qty}`;
    return li;
  }

  function boxButton(b) {
    const el = document.createElement("button");
    el.type = "button"; el.dataset.box = b.code;
    el.className = "box" + (b.code === box ? "" : " secondary");
    el.innerHTML = `<strong></strong><small class="size"></small>`;
    el.querySelector("strong").textContent = b.code;
    el.querySelector(".size").textContent = `${b.length_cm}×${b.width_cm}×${b.height_cm} cm`;
    if (b.code === order.suggested_box) {
      const tag = document.createElement("small"); tag.className = "suggested"; tag.dataset.t = "suggested";
      el.appendChild(tag);
    }
    el.addEventListener("click", () => { box = b.code; renderOrder(); $("weight").focus(); });
    return el;
  }

  function renderOrder() {
    const pane = $("packing");
    const weight = $("weight") ? $("weight").value : "";
    pane.innerHTML = ""; pane.classList.toggle("hidden", !order);
    renderQueue();
    if (!order) return;
    const head = document.createElement("div");
    head.className = "card order-head" + (order.all_verified ? " verified" : "");
    head.innerHTML = `<div><span data-t="order"></span> <strong class="ref"></strong> <span class="tote"></span></div>
      <div class="result"></div><ul class="items"></ul>`;
    head.querySelector(".ref").textContent = ref(order);
    head.querySelector(".tote").textContent = order.tote ? "· " + order.tote : "";
    order.items.forEach((item) => head.querySelector(".items").appendChild(itemRow(item)));
    const finish = document.createElement("div");
    finish.className = "card finish";
    finish.innerHTML = `<label data-t="box"></label><div class="row boxes"></div>
      <label for="weight" data-t="weighScale"></label><input id="weight" name="weight_g" inputmode="numeric" autocomplete="off">
      <div class="row"><button type="button" class="pack" data-t="pack"></button>
      <button type="button" class="secondary other" data-t="otherOrder"></button></div>`;
    order.boxes.forEach((b) => finish.querySelector(".boxes").appendChild(boxButton(b)));
    finish.querySelector("#weight").value = weight;
    finish.querySelector(".pack").disabled = !order.all_verified;
    finish.querySelector(".pack").addEventListener("click", () => pack());
    finish.querySelector(".other").addEventListener("click", () => close(""));
    Tablet.onScan(finish.querySelector("#weight"), pack);  // a USB scale types the grams and Enter
    pane.append(head, finish);
    pane.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  }

  function show(view, message) {
    const fresh = !order || order.order_id !== view.order_id;
    order = view;
    if (fresh) { box = view.suggested_box; if ($("weight")) $("weight").value = ""; }
    localStorage.setItem(OPEN_KEY, view.order_id);
    renderOrder();
    if (message) say(message, "ok");
    if (view.all_verified) $("weight").focus(); else $("packScan").focus();
  }

  function close(message) {
    order = null; box = null;
    localStorage.removeItem(OPEN_KEY);
    renderOrder();
    if (message !== undefined) say(message);
    $("packScan").focus();
  }

  async function openOrder(code) {
    try {
      const view = await Tablet.api("POST", "/warehouse/pack-station/open", { code });
      show(view, () => `${t("opened")} ${ref(view)} · ${t(view.all_verified ? "allChecked" : "verifyFirst")}`);
      if (!view.suggested_box) say(() => t("noBoxFits"), "error");
    } catch (e) {
      const gone = e.status === 404 || e.status === 409;  // packed or cancelled meanwhile
      if (gone && code === localStorage.getItem(OPEN_KEY)) localStorage.removeItem(OPEN_KEY);
      Tablet.sayProblem(e);
    }
  }

  async function verify(code) {
    try {
      const view = await Tablet.api("POST", `/warehouse/orders/${encodeURIComponent(order.order_id)}/verify`, { code });
      const item = view.items.find((i) => i.sku === view.scanned.sku);
      const done = view.all_verified ? () => t("allChecked") : () => `${t("unitOk")} ${item.name || item.sku} ${item.verified}/${item.qty}`;
      show(view, done);
    } catch (e) {
      Tablet.sayProblem(e);
      const head = document.querySelector("#packing .order-head");
      if (head) { head.classList.remove("refused"); void head.offsetWidth; head.classList.add("refused"); }
    }
  }

  function onScan(code) {
    if (!order || code.toUpperCase().startsWith("TOTE-")) openOrder(code);
    else verify(code);
  }

  // `typed`: the grams a USB scale typed before its Enter (the field is cleared by then)
  async function pack(typed) {
    if (typed !== undefined) $("weight").value = typed;
    const weight = parseInt($("weight").value, 10);
    if (!box) { say(() => t("chooseBox"), "error"); return; }
    if (!(weight > 0)) { say(() => t("typeWeight"), "error"); $("weight").focus(); return; }
    const packing = order;
    try {
      const res = await Tablet.api("POST", `/warehouse/orders/${encodeURIComponent(packing.order_id)}/pack`, { box, weight_g: weight });
      const result = document.querySelector("#packing .result");
      result.className = "result awb"; result.textContent = res.awb ? `${res.courier.toUpperCase()} ${res.awb}` : "";
      say(() => (res.awb ? t("packed") + " " + res.awb : t("pending")), "ok");
      recent.unshift({ order_id: packing.order_id, ref: ref(packing), awb: res.awb, courier: res.courier || "" });
      recent.splice(RECENT);
      renderRecent();
      if (res.awb) await printLabel(packing.order_id);  // the packer prints it from the new tab
      setTimeout(() => { if (order && order.order_id === packing.order_id) close(); }, res.awb ? 1500 : 2500);  // long enough to read the AWB
    } catch (e) { Tablet.sayProblem(e); }
  }

  // the pick screen hands over the orders just picked: they wait here to be scanned open
  function showScreen(picked) {
    if (picked) queue = picked.map((o) => ({ order_id: o.order_id, external_id: o.external_id }));
    renderQueue();
    const open = localStorage.getItem(OPEN_KEY);
    if (open && !order) openOrder(open); else $("packScan").focus();
  }

  Tablet.onScan($("packScan"), onScan);
  Tablet.screen("pack", {
    show: showScreen,
    lang: () => { renderRecent(); renderOrder(); },
  });
})();
