// The pack screen: each picked order weighed and measured, packed, its label printed; the
// last packed orders stay listed so their labels can be printed again.
(() => {
  const { $, t, say } = Tablet;
  const recent = [];  // the last packed orders, newest first
  const RECENT = 5;

  async function printLabel(orderId) {
    try {
      await Tablet.openPdf(`/warehouse/orders/${encodeURIComponent(orderId)}/label.pdf`);
      say(t("labelOpened"), "ok");
    } catch (e) { say(e.code === "NOT_FOUND" ? t("noLabel") : e.message, "error"); }
  }

  function renderRecent() {
    const box = $("recent"), ul = box.querySelector("ul");
    ul.innerHTML = "";
    box.classList.toggle("hidden", recent.length === 0);
    recent.forEach((r) => {
      const li = document.createElement("li");
      li.innerHTML = `<span></span><button type="button" class="secondary reprint"></button>`;
      li.querySelector("span").textContent = `${r.ref} · ${r.awb ? r.courier.toUpperCase() + " " + r.awb : "…"}`;
      const b = li.querySelector("button");
      b.textContent = t("reprint"); b.dataset.order = r.order_id;
      b.addEventListener("click", () => printLabel(r.order_id));
      ul.appendChild(li);
    });
  }

  async function pack(card, order, orders) {
    const body = {};
    card.querySelectorAll("input").forEach((i) => { body[i.name] = parseInt(i.value, 10); });
    try {
      const res = await Tablet.api("POST", `/warehouse/orders/${order.order_id}/pack`, body);
      say(res.awb ? t("packed") + " " + res.awb : t("pending"), "ok");
      const result = card.querySelector(".result");
      result.className = "result awb"; result.textContent = res.awb ? `${res.courier.toUpperCase()} ${res.awb}` : "";
      recent.unshift({ order_id: order.order_id, ref: order.external_id || order.order_id, awb: res.awb, courier: res.courier || "" });
      recent.splice(RECENT);
      renderRecent();
      if (res.awb) await printLabel(order.order_id);  // the packer prints it from the new tab
      setTimeout(() => renderPacking(orders.slice(1)), res.awb ? 600 : 1200);
    } catch (e) { say(e.message, "error"); }
  }

  function renderPacking(orders) {
    const box = $("packing"); box.innerHTML = ""; box.classList.remove("hidden");
    if (!orders || !orders.length) { if (orders) say(t("done"), "ok"); return; }
    const order = orders[0];
    const card = document.createElement("div");
    card.className = "card";
    card.innerHTML = `<div><strong></strong></div>
      <div class="grid4">
        <div><label data-t="weight"></label><input name="weight_g" inputmode="numeric"></div>
        <div><label data-t="length"></label><input name="length_cm" inputmode="numeric"></div>
        <div><label data-t="width"></label><input name="width_cm" inputmode="numeric"></div>
        <div><label data-t="height"></label><input name="height_cm" inputmode="numeric"></div>
      </div><p><button type="button" class="pack" data-t="pack"></button></p><div class="result"></div>`;
    card.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    card.querySelector("strong").textContent = t("order") + " " + (order.external_id || order.order_id);
    card.querySelector(".pack").addEventListener("click", () => pack(card, order, orders));
    box.appendChild(card);
    card.querySelector("input").focus();
  }

  Tablet.screen("pack", { show: renderPacking, lang: () => { if (recent.length) renderRecent(); } });
})();
