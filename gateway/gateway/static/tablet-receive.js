// The receive screen: open an inbound by its number, count good and damaged units per line, save.
(() => {
  const { $, t, say } = Tablet;

  function lineCard(line) {
    const card = document.createElement("div");
    card.className = "card line"; card.dataset.sku = line.sku;
    if (line.lot) card.dataset.lot = line.lot;
    if (line.expiry) card.dataset.expiry = line.expiry;
    card.innerHTML = `<div><strong></strong> · <span data-t="expected"></span> <span class="qty-exp"></span></div>
      <div class="grid4"><div><label data-t="good"></label><input name="qty_good" inputmode="numeric" value="0"></div>
      <div><label data-t="damaged"></label><input name="qty_damaged" inputmode="numeric" value="0"></div>
      <div class="span2"><label data-t="bin"></label><input name="bin" autocomplete="off"></div></div>`;
    card.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    card.querySelector("strong").textContent = line.sku + (line.lot ? ` · ${t("lot")} ${line.lot}` : "");
    card.querySelector(".qty-exp").textContent = line.qty;
    return card;
  }

  function counted(box) {
    return [...box.querySelectorAll(".line")].map((card) => {
      const get = (n) => card.querySelector(`input[name=${n}]`).value.trim();
      const line = { sku: card.dataset.sku, qty_good: parseInt(get("qty_good"), 10), qty_damaged: parseInt(get("qty_damaged"), 10) };
      if (get("bin")) line.bin = get("bin");
      if (card.dataset.lot) { line.lot = card.dataset.lot; line.expiry = card.dataset.expiry; }
      return line;
    }).filter((l) => l.qty_good || l.qty_damaged);
  }

  async function openInbound() {
    say("");
    const id = $("inbound").value.trim();
    if (!id) return;
    try {
      const inbound = await Tablet.api("GET", `/inbounds/${encodeURIComponent(id)}`);
      const idem = Tablet.newKey();  // one key per opened form: a retried save is replayed, not repeated
      const box = $("receiveLines"); box.innerHTML = "";
      inbound.lines.forEach((line) => box.appendChild(lineCard(line)));
      const save = document.createElement("div");
      save.className = "card";
      save.innerHTML = `<button type="button" id="saveReceipt" data-t="save"></button>`;
      save.querySelector("button").textContent = t("save");
      box.appendChild(save);
      $("saveReceipt").addEventListener("click", async () => {
        try {
          const path = `/warehouse/inbounds/${encodeURIComponent(id)}/receive`;
          const data = await Tablet.api("POST", path, { lines: counted(box) }, { "Idempotency-Key": idem });
          say(t("saved") + " " + data.status, "ok");
          box.innerHTML = "";
        } catch (e) { say(e.message, "error"); }
      });
    } catch (e) { say(e.message, "error"); }
  }

  $("openInbound").addEventListener("click", openInbound);
  $("inbound").addEventListener("keydown", (ev) => { if (ev.key === "Enter") openInbound(); });
  Tablet.screen("receive", { show: () => $("inbound").focus() });
})();
