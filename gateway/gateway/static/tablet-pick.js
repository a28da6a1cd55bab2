// The pick screen: a tote label per order, then the walk stop by stop (scan the bin, then
// each unit; for many units, scan one and confirm the count). Packing checks and records
// every scan: the screen shows its answer (which tote) or its refusal, in colour and sound.
// After a reload, or on another tablet, /warehouse/my-work brings the same list back.
(() => {
  const { $, t, say } = Tablet;
  const REASONS = ["not_in_bin", "damaged", "wrong_item_in_bin", "expired"];
  let list = null;     // the open pick list as packing last answered it
  let picked = [];     // orders picked and not packed yet (my work)
  let pending = null;  // a unit scanned on a stop of many units, waiting for its count
  let last = null;     // the last answer or refusal, kept to redraw it in the other language
  let answers = 0;     // how many answers came back (#pickState data-answers: tests wait on it)

  const fmt = (key, vals) => t(key).replace(/\{(\w+)\}/g, (_, k) => (vals[k] ?? ""));
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // WebAudio beeps made here (no sound files): a high double blip for a good scan, a low
  // buzz for a refusal, so the packer hears the answer without looking.
  let audio = null;
  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const tones = ok ? [[1320, 0, 0.08], [1760, 0.1, 0.08]] : [[220, 0, 0.35]];
      tones.forEach(([freq, start, length]) => {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = ok ? "sine" : "square";
        osc.frequency.value = freq;
        gain.gain.value = 0.15;
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + start);
        osc.stop(audio.currentTime + start + length);
      });
    } catch (e) { /* no audio on this device: the colour still tells */ }
  }

  const orderRef = (orderId) => {
    const order = list && list.orders.find((o) => o.order_id === orderId);
    return order ? order.external_id || order.order_id : orderId;
  };

  // A refusal from packing, in the packer's language: its code names the string.
  function errorText(e) {
    if (!e.status && !e.code) return t("err.NETWORK");  // fetch itself failed: no answer came
    const known = e.code && Tablet.has("err." + e.code);
    return known ? t("err." + e.code) : e.message;
  }

  function feedback(kind, text) {
    last = { kind, text };
    const state = $("pickState");
    state.className = "card state " + kind;
    state.dataset.answers = String(++answers);
    say(text(), kind);
    beep(kind === "ok");
  }

  // The instruction at the top: the last answer, then the tote to scan or the open (else
  // the next) stop in big type: where (bin, product) on the left, what (count, tote) right.
  function renderState() {
    const box = $("pickNow"); box.innerHTML = "";
    box.append(el("div", "verdict", last ? last.text() : ""));
    const where = el("div", "where"), what = el("div", "what");
    box.append(el("div", "now-grid"), el("div", "hint"));
    box.querySelector(".now-grid").append(where, what);
    const hint = box.querySelector(".hint");
    if (list.next_tote_for) {
      const n = list.orders.filter((o) => o.tote).length + 1;
      const total = list.orders.filter((o) => o.status === "picking").length;
      where.append(el("div", "bin", fmt("scanTote", { n, total })));
      what.append(el("div", "tote", t("order") + " " + orderRef(list.next_tote_for)));
      return;
    }
    const stop = list.stops.find((s) => s.open) || list.stops.find((s) => !s.done);
    if (!stop) { where.append(el("div", "name", t("allScanned"))); return; }
    const lot = stop.lot ? ` · ${t("lot")} ${stop.lot}` + (stop.expiry ? ` (${t("exp")} ${stop.expiry})` : "") : "";
    const totes = stop.orders.filter((o) => o.picked < o.qty).map((o) => `${o.qty - o.picked}× → ${o.tote}`);
    where.append(el("div", "bin", stop.bin), el("div", "name", stop.name || stop.sku), el("div", "sku", stop.sku + lot));
    what.append(el("div", "qty", fmt("takeLeft", { n: stop.remaining, qty: stop.qty })));
    totes.forEach((line) => what.append(el("div", "tote", line)));
    hint.textContent = stop.open ? t("scanUnit") : t("scanBin");
  }

  function renderStops() {
    const box = $("stops"); box.innerHTML = "";
    list.stops.forEach((stop) => {
      const card = el("div", "card stop" + (stop.done ? " done" : "") + (stop.open ? " open" : ""));
      Object.assign(card.dataset, { stop: stop.stop_id, bin: stop.bin, sku: stop.sku, remaining: stop.remaining });
      const left = el("div");
      left.append(el("div", "bin", stop.bin), el("div", "sku", `${stop.name || stop.sku} · ${stop.sku}` + (stop.lot ? ` · ${t("lot")} ${stop.lot}` : "")));
      left.append(el("div", "sku", stop.orders.map((o) => `${o.picked}/${o.qty} → ${o.tote || "?"}`).join("   ")));
      card.append(left, el("div", "qty", `${stop.picked}/${stop.qty}`));
      box.appendChild(card);
    });
  }

  function render() {
    $("pickProgress").textContent = fmt("progress", { done: list.units_scanned, total: list.units });
    $("shortOpen").disabled = Boolean(list.next_tote_for) || !list.stops.some((s) => !s.done);
    renderState(); renderStops();
    $("countBox").classList.toggle("hidden", !pending);
    if (last) { say(last.text(), last.kind); $("pickState").className = "card state " + last.kind; }
  }

  function renderMyWork() {
    const box = $("myWork"), ul = box.querySelector("ul");
    ul.innerHTML = "";
    box.classList.toggle("hidden", picked.length === 0);
    picked.forEach((o) => ul.appendChild(el("li", null, `${o.tote || "-"} · ${o.external_id || o.order_id}`)));
  }

  function showList(pickList) {
    list = pickList; pending = null;
    $("picklist").classList.toggle("hidden", !list);
    $("nextCard").classList.toggle("hidden", Boolean(list));
    if (list) { render(); $("scan").focus(); }
  }

  async function load() {
    try {
      const work = await Tablet.api("GET", "/warehouse/my-work");
      picked = work.picked; renderMyWork();
      last = null; showList(work.pick_list);
    } catch (e) { say(errorText(e), "error"); }
  }

  async function nextList() {
    say(""); last = null;
    try {
      const data = await Tablet.api("GET", "/warehouse/pick-lists/next");
      if (!data.pick_list) { say(t("nowork")); return; }
      showList(data.pick_list);
    } catch (e) { say(errorText(e), "error"); }
  }

  function answerText(answer) {
    if (answer.kind === "tote") return () => fmt("toteBound", { tote: answer.tote, order: orderRef(answer.order_id) });
    if (answer.kind === "bin") return () => fmt("binOpen", { bin: answer.bin });
    const into = answer.placed.map((p) => `${p.qty}× → ${p.tote}`).join(", ");
    return () => fmt("placed", { sku: answer.sku, into });
  }

  // A scan whose answer never came (no network) keeps its id: scanned again, it is the same
  // scan, so packing counts it once whether or not the first one arrived.
  let unanswered = null;

  async function send(code, qty) {
    const same = unanswered && unanswered.code === code && unanswered.qty === (qty || 1);
    const body = same ? unanswered : { code, qty: qty || 1, scan_id: Tablet.newKey() };
    unanswered = body;
    try {
      const answer = await Tablet.api("POST", `/warehouse/pick-lists/${list.pick_list_id}/scans`, body);
      unanswered = null;
      const data = await Tablet.api("GET", "/warehouse/pick-lists/next");
      list = data.pick_list || list;
      feedback("ok", answerText(answer));
    } catch (e) {
      // a refusal is an answer; a 5xx (a timeout on the way) may hide a scan that counted
      if (e.status && e.status < 500) unanswered = null;
      feedback("error", () => errorText(e) + " (" + code + ")");
    }
    pending = null; render(); $("scan").focus();
  }

  // A unit of a stop with more than one left: ask for the count before sending the scan.
  function onScan(code) {
    if (!list) return;
    const stop = list.stops.find((s) => s.open);
    const isBinOrTote = list.stops.some((s) => s.bin === code) || /^tote-/i.test(code);
    if (stop && stop.remaining > 1 && !isBinOrTote && !list.next_tote_for) {
      pending = { code, stop };
      $("countTitle").textContent = fmt("countTitle", { sku: stop.name || stop.sku, bin: stop.bin });
      $("count").value = String(stop.remaining);
      $("countBox").classList.remove("hidden");
      $("count").focus(); $("count").select();
      return;
    }
    send(code, 1);
  }

  function confirmCount() {
    const n = parseInt($("count").value, 10);
    if (!pending || !(n >= 1)) { say(t("err.VALIDATION_ERROR"), "error"); return; }
    send(pending.code, n);
  }

  function openShort() {
    const stop = list.stops.find((s) => s.open) || list.stops.find((s) => !s.done);
    if (!stop) return;
    $("shortBox").dataset.stop = stop.stop_id;
    $("shortTitle").textContent = `${stop.bin} · ${stop.name || stop.sku}`;
    $("shortQty").value = String(stop.remaining);
    $("shortBox").classList.remove("hidden");
  }

  async function shortPick(reason) {
    const body = { stop_id: $("shortBox").dataset.stop, qty: parseInt($("shortQty").value, 10), reason };
    try {
      const done = await Tablet.api("POST", `/warehouse/pick-lists/${list.pick_list_id}/short`, body);
      const orders = done.left_the_list.map((o) => orderRef(o.order_id)).join(", ");
      const totes = done.left_the_list.map((o) => o.tote).filter(Boolean).join(", ");
      list = done.pick_list;
      feedback("ok", () => fmt("shortDone", { orders, totes: totes || "-" }));
      $("shortBox").classList.add("hidden");
    } catch (e) { feedback("error", () => errorText(e)); }
    render(); $("scan").focus();
  }

  async function confirmPicked() {
    try {
      const data = await Tablet.api("POST", `/warehouse/pick-lists/${list.pick_list_id}/picked`);
      const orders = data.pick_list.orders.filter((o) => o.status === "picked");
      list = null; last = null;
      $("picklist").classList.add("hidden"); $("nextCard").classList.remove("hidden");
      Tablet.tab("pack", orders);
    } catch (e) {
      const stops = e.fields ? Object.values(e.fields).map((m) => m[0]).join(" ") : "";
      feedback("error", () => errorText(e) + (e.code === "PICK_INCOMPLETE" ? " " + stops : ""));
    }
  }

  function buildReasons() {
    const box = $("shortReasons"); box.innerHTML = "";
    REASONS.forEach((reason) => {
      const b = el("button", "secondary reason", t("reason." + reason));
      b.type = "button"; b.dataset.reason = reason;
      b.addEventListener("click", () => shortPick(reason));
      box.appendChild(b);
    });
  }

  $("next").addEventListener("click", nextList);
  $("picked").addEventListener("click", confirmPicked);
  $("shortOpen").addEventListener("click", openShort);
  $("shortCancel").addEventListener("click", () => $("shortBox").classList.add("hidden"));
  $("countOk").addEventListener("click", confirmCount);
  $("countOne").addEventListener("click", () => { if (pending) send(pending.code, 1); });
  $("count").addEventListener("keydown", (ev) => { if (ev.key === "Enter") confirmCount(); });
  $("packPicked").addEventListener("click", () => Tablet.tab("pack", picked));
  Tablet.onScan($("scan"), onScan);
  Tablet.screen("pick", {
    show: load,
    lang: () => { buildReasons(); renderMyWork(); if (list) render(); },
  });
})();
