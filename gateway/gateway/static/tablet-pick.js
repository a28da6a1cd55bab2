// The pick screen: the next pick list, walked stop by stop with the scanner, then confirmed.
(() => {
  const { $, t, say } = Tablet;
  let list = null;

  function renderStops() {
    const box = $("stops"); box.innerHTML = "";
    list.stops.forEach((stop, i) => {
      const el = document.createElement("div");
      el.className = "card stop" + (stop.done ? " done" : "");
      el.dataset.index = i;
      el.innerHTML = `<div><div class="bin"></div><div class="sku"></div></div><div class="qty"></div>`;
      el.querySelector(".bin").textContent = stop.bin;
      const lot = stop.lot ? ` · ${t("lot")} ${stop.lot}` + (stop.expiry ? ` (${t("exp")} ${stop.expiry})` : "") : "";
      el.querySelector(".sku").textContent = stop.sku + lot + " · " + stop.orders.map((o) => o.qty + "× " + o.order_id.slice(-6)).join(", ");
      el.querySelector(".qty").textContent = t("take") + " " + stop.qty;
      el.addEventListener("click", () => { stop.done = !stop.done; renderStops(); });
      box.appendChild(el);
    });
  }

  async function nextList() {
    say("");
    try {
      const data = await Tablet.api("GET", "/warehouse/pick-lists/next");
      list = data.pick_list;
      if (!list) { $("picklist").classList.add("hidden"); say(t("nowork")); return; }
      $("picklist").classList.remove("hidden");
      renderStops();
      $("scan").focus();
    } catch (e) { say(e.message, "error"); }
  }

  function onScan(code) {
    const hit = list.stops.find((s) => !s.done && (s.bin === code || s.sku === code));
    if (!hit) { say(t("unknown") + " " + code, "error"); return; }
    hit.done = true; renderStops(); say(t("scanned") + " " + hit.bin + " / " + hit.sku, "ok");
  }

  async function confirmPicked() {
    try {
      const data = await Tablet.api("POST", `/warehouse/pick-lists/${list.pick_list_id}/picked`);
      list = data.pick_list;
      $("picklist").classList.add("hidden");
      Tablet.tab("pack", list.orders.filter((o) => o.status === "picked"));
    } catch (e) { say(e.message, "error"); }
  }

  $("next").addEventListener("click", nextList);
  $("picked").addEventListener("click", confirmPicked);
  Tablet.onScan($("scan"), onScan);
  Tablet.screen("pick", { lang: () => { if (list) renderStops(); } });
})();
