// The receive screen: open an inbound by its number, scan each unit's barcode to count it on
// its line (as good or damaged), type counts where scanning is slow, give a reason when more
// arrived than announced, save.
(() => {
  const { $, t, say } = Tablet;
  let lines = [];  // the inbound's lines, each with its card
  let mode = "qty_good";  // what a scanned unit counts as

  function lineCard(line) {
    const card = document.createElement("div");
    card.className = "card line"; card.dataset.sku = line.sku;
    if (line.lot) card.dataset.lot = line.lot;
    if (line.expiry) card.dataset.expiry = line.expiry;
    card.innerHTML = `<div><strong></strong> <span class="name"></span> · <span data-t="expected"></span> <span class="qty-exp"></span></div>
      <div class="grid4"><div><label data-t="good"></label><input name="qty_good" inputmode="numeric" value="0"></div>
      <div><label data-t="damaged"></label><input name="qty_damaged" inputmode="numeric" value="0"></div>
      <div class="span2"><label data-t="bin"></label><input name="bin" autocomplete="off"></div></div>
      <div class="over hidden"><label data-t="overReason"></label><input name="over_reason" autocomplete="off"></div>`;
    card.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    card.querySelector("strong").textContent = line.sku + (line.lot ? ` · ${t("lot")} ${line.lot}` : "");
    card.querySelector(".name").textContent = line.name || "";
    card.querySelector(".qty-exp").textContent = line.qty;
    card.querySelectorAll("input[name^=qty]").forEach((i) => i.addEventListener("input", () => checkOver(line)));
    return card;
  }

  const num = (card, name) => parseInt(card.querySelector(`input[name=${name}]`).value, 10) || 0;
  const counted = (line) => num(line.card, "qty_good") + num(line.card, "qty_damaged");

  // more than announced needs a reason (the server refuses the receipt without one)
  function checkOver(line) {
    const over = counted(line) > line.qty;
    line.card.querySelector(".over").classList.toggle("hidden", !over);
    line.card.classList.toggle("overcount", over);
    return over;
  }

  function onScan(code) {
    const same = lines.filter((l) => l.sku === code || (l.barcode && l.barcode === code));
    if (!same.length) { say(() => `${t("notInInbound")} ${code}`, "error"); return; }
    const line = same.find((l) => counted(l) < l.qty) || same[same.length - 1];
    const input = line.card.querySelector(`input[name=${mode}]`);
    input.value = String((parseInt(input.value, 10) || 0) + 1);
    const over = checkOver(line);
    say(() => `${t("counted")} ${line.name || line.sku} ${counted(line)}/${line.qty} (${t(mode === "qty_good" ? "good" : "damaged")})` + (over ? ` · ${t("needReason")}` : ""), over ? "error" : "ok");
    if (over && !line.card.querySelector("input[name=over_reason]").value) line.card.querySelector("input[name=over_reason]").focus();
  }

  function receipt() {
    return lines.filter((l) => counted(l) > 0).map((l) => {
      const get = (n) => l.card.querySelector(`input[name=${n}]`).value.trim();
      const out = { sku: l.sku, qty_good: parseInt(get("qty_good"), 10), qty_damaged: parseInt(get("qty_damaged"), 10) };
      if (get("bin")) out.bin = get("bin");
      if (get("over_reason")) out.over_reason = get("over_reason");
      if (l.lot) { out.lot = l.lot; out.expiry = l.expiry; }
      return out;
    });
  }

  async function save(id, idem) {
    const sent = lines.filter((l) => counted(l) > 0);
    try {
      const path = `/warehouse/inbounds/${encodeURIComponent(id)}/receive`;
      const data = await Tablet.api("POST", path, { lines: receipt() }, { "Idempotency-Key": idem });
      say(() => t("saved") + " " + data.status, "ok");
      $("receiveLines").innerHTML = ""; $("receiveScanCard").classList.add("hidden"); lines = [];
    } catch (e) {
      // the server names the line missing its reason: show that line's reason field
      Object.keys(e.fields || {}).forEach((f) => {
        const m = /^lines\.(\d+)\.over_reason$/.exec(f);
        if (m && sent[Number(m[1])]) sent[Number(m[1])].card.querySelector(".over").classList.remove("hidden");
      });
      Tablet.sayProblem(e);
    }
  }

  async function openInbound() {
    say("");
    const id = $("inbound").value.trim();
    if (!id) return;
    try {
      const inbound = await Tablet.api("GET", `/inbounds/${encodeURIComponent(id)}`);
      const idem = Tablet.newKey();  // one key per opened form: a retried save is replayed, not repeated
      const box = $("receiveLines"); box.innerHTML = "";
      lines = inbound.lines.map((line) => Object.assign({}, line, { card: lineCard(line) }));
      lines.forEach((l) => box.appendChild(l.card));
      const saveCard = document.createElement("div");
      saveCard.className = "card";
      saveCard.innerHTML = `<button type="button" id="saveReceipt" data-t="save"></button>`;
      saveCard.querySelector("button").textContent = t("save");
      box.appendChild(saveCard);
      $("saveReceipt").addEventListener("click", () => save(id, idem));
      $("receiveScanCard").classList.remove("hidden");
      $("receiveScan").focus();
    } catch (e) { Tablet.sayProblem(e); }
  }

  $("receiveMode").querySelectorAll("button").forEach((b) => b.addEventListener("click", () => {
    mode = b.dataset.mode;
    $("receiveMode").querySelectorAll("button").forEach((x) => x.classList.toggle("secondary", x !== b));
    $("receiveScan").focus();
  }));
  $("openInbound").addEventListener("click", openInbound);
  $("inbound").addEventListener("keydown", (ev) => { if (ev.key === "Enter") openInbound(); });
  Tablet.onScan($("receiveScan"), onScan);
  Tablet.screen("receive", { show: () => (lines.length ? $("receiveScan") : $("inbound")).focus() });
})();
