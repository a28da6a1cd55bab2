// The packer's tablet: pick, pack, receive and hand over, talking to /api/v1 with a staff key.
(() => {
  // the one table of strings, shared with the pages (tablet.* keys): /static/strings.json
  let T = null;
  let lang = localStorage.getItem("gudang.lang") || "id";
  let key = localStorage.getItem("gudang.staffKey") || "";
  let list = null;
  const recent = [];  // the last packed orders, newest first: their labels can be printed again
  const RECENT = 5;
  const $ = (id) => document.getElementById(id);
  const t = (k) => T["tablet." + k][lang];

  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    if (T && recent.length) renderRecent();
    $("lang").textContent = lang === "id" ? "English" : "Bahasa Indonesia";
  }
  function say(text, kind) { const m = $("message"); m.textContent = text || ""; m.className = kind || ""; }
  function show(signedIn) {
    $("login").classList.toggle("hidden", signedIn);
    $("tabs").classList.toggle("hidden", !signedIn);
    $("logout").classList.toggle("hidden", !signedIn);
    tab(signedIn ? "work" : null);
  }
  function tab(name) {
    ["receive", "work", "handover"].forEach((id) => $(id).classList.toggle("hidden", id !== name));
    document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("secondary", b.dataset.tab !== name));
  }
  const COURIERS = { jne: "JNE", jnt: "J&T", sicepat: "SiCepat", anteraja: "AnterAja", ninja: "Ninja Xpress",
                     pos: "Pos Indonesia", idexpress: "ID Express", gosend: "GoSend", grabexpress: "GrabExpress" };
  const rupiah = (n) => "Rp " + Number(n).toLocaleString("id-ID");
  const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());

  async function openInbound() {
    say("");
    const id = $("inbound").value.trim();
    if (!id) return;
    try {
      const inbound = await api("GET", `/inbounds/${encodeURIComponent(id)}`);
      const idem = newKey();  // one key per opened form: a retried save is replayed, not repeated
      const box = $("receiveLines"); box.innerHTML = "";
      inbound.lines.forEach((line, i) => {
        const card = document.createElement("div");
        card.className = "card line"; card.dataset.sku = line.sku;
        if (line.lot) card.dataset.lot = line.lot;
        if (line.expiry) card.dataset.expiry = line.expiry;
        card.innerHTML = `<div><strong></strong> · ${t("expected")} <span class="qty-exp"></span></div>
          <div class="grid4"><div><label>${t("good")}</label><input name="qty_good" inputmode="numeric" value="0"></div>
          <div><label>${t("damaged")}</label><input name="qty_damaged" inputmode="numeric" value="0"></div>
          <div class="span2"><label>${t("bin")}</label><input name="bin" autocomplete="off"></div></div>`;
        card.querySelector("strong").textContent = line.sku + (line.lot ? ` · ${t("lot")} ${line.lot}` : "");
        card.querySelector(".qty-exp").textContent = line.qty;
        box.appendChild(card);
      });
      const save = document.createElement("div");
      save.className = "card";
      save.innerHTML = `<button type="button" id="saveReceipt">${t("save")}</button>`;
      box.appendChild(save);
      $("saveReceipt").addEventListener("click", async () => {
        const lines = [...box.querySelectorAll(".line")].map((card) => {
          const get = (n) => card.querySelector(`input[name=${n}]`).value.trim();
          const line = { sku: card.dataset.sku, qty_good: parseInt(get("qty_good"), 10), qty_damaged: parseInt(get("qty_damaged"), 10) };
          if (get("bin")) line.bin = get("bin");
          if (card.dataset.lot) { line.lot = card.dataset.lot; line.expiry = card.dataset.expiry; }
          return line;
        }).filter((l) => l.qty_good || l.qty_damaged);
        try {
          const resp = await fetch(`/api/v1/warehouse/inbounds/${encodeURIComponent(id)}/receive`, {
            method: "POST", body: JSON.stringify({ lines }),
            headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json", "Idempotency-Key": idem },
          });
          const data = await resp.json();
          if (!resp.ok) throw new Error(data.error.message + (data.error.fields ? " (" + Object.keys(data.error.fields).join(", ") + ")" : ""));
          say(t("saved") + " " + data.status, "ok");
          box.innerHTML = "";
        } catch (e) { say(e.message, "error"); }
      });
    } catch (e) { say(e.message, "error"); }
  }

  // The label needs the staff key, which a plain link cannot send: fetch the PDF and open it
  // from memory in a new tab, where the browser's PDF viewer prints it.
  async function openPdf(path, popupMessage) {
    const resp = await fetch("/api/v1" + path, { headers: { "Authorization": "Bearer " + key } });
    if (!resp.ok) {
      let err = { message: resp.statusText, code: "" };
      try { err = (await resp.json()).error; } catch (e) { /* not JSON: keep the status text */ }
      throw Object.assign(new Error(err.message), { code: err.code });
    }
    const url = URL.createObjectURL(await resp.blob());
    const win = window.open(url, "_blank");
    setTimeout(() => URL.revokeObjectURL(url), 10 * 60 * 1000);
    if (!win) throw new Error(popupMessage || t("popup"));
  }
  async function printLabel(orderId) {
    try {
      await openPdf(`/warehouse/orders/${encodeURIComponent(orderId)}/label.pdf`);
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

  async function handOver(courier) {
    say("");
    try {
      const m = await api("POST", "/warehouse/manifests", { courier });
      const box = $("manifest");
      box.innerHTML = `<div class="card"><div class="awb"></div><div class="sum"></div><ol class="awbs"></ol></div>`;
      box.querySelector(".awb").textContent = `${m.courier_name} · ${m.parcel_count} ${t("parcels")}`;
      box.querySelector(".sum").textContent = `${t("cod")} ${rupiah(m.cod_total)} · ${m.manifest_id}`;
      m.parcels.forEach((p) => { const li = document.createElement("li"); li.textContent = p.awb; box.querySelector(".awbs").appendChild(li); });
      const print = document.createElement("button");
      print.type = "button"; print.className = "print-manifest"; print.textContent = t("printManifest");
      print.addEventListener("click", async () => {
        try { await openPdf(`/warehouse/manifests/${encodeURIComponent(m.manifest_id)}.pdf`); } catch (e) { say(e.message, "error"); }
      });
      box.querySelector(".card").appendChild(print);
    } catch (e) { say(e.message.includes("Nothing") || e.message.includes("no ") ? t("nothing") : e.message, "error"); }
  }
  async function api(method, path, body) {
    const resp = await fetch("/api/v1" + path, {
      method, headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = resp.status === 204 ? null : await resp.json();
    if (!resp.ok) {
      const err = data && data.error ? data.error : { message: resp.statusText };
      const fields = err.fields ? " (" + Object.keys(err.fields).join(", ") + ")" : "";
      throw new Error(err.message + fields);
    }
    return data;
  }

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
      const data = await api("GET", "/warehouse/pick-lists/next");
      list = data.pick_list;
      $("packing").classList.add("hidden");
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
      const data = await api("POST", `/warehouse/pick-lists/${list.pick_list_id}/picked`);
      list = data.pick_list;
      $("picklist").classList.add("hidden");
      renderPacking(list.orders.filter((o) => o.status === "picked"));
    } catch (e) { say(e.message, "error"); }
  }

  function renderPacking(orders) {
    const box = $("packing"); box.innerHTML = ""; box.classList.remove("hidden");
    if (!orders.length) { say(t("done"), "ok"); return; }
    const order = orders[0];
    const card = document.createElement("div");
    card.className = "card";
    card.innerHTML = `<div><strong></strong></div>
      <div class="grid4">
        <div><label>${t("weight")}</label><input name="weight_g" inputmode="numeric"></div>
        <div><label>${t("length")}</label><input name="length_cm" inputmode="numeric"></div>
        <div><label>${t("width")}</label><input name="width_cm" inputmode="numeric"></div>
        <div><label>${t("height")}</label><input name="height_cm" inputmode="numeric"></div>
      </div><p><button type="button" class="pack">${t("pack")}</button></p><div class="result"></div>`;
    card.querySelector("strong").textContent = t("order") + " " + (order.external_id || order.order_id);
    card.querySelector(".pack").addEventListener("click", async () => {
      const body = {};
      card.querySelectorAll("input").forEach((i) => { body[i.name] = parseInt(i.value, 10); });
      try {
        const res = await api("POST", `/warehouse/orders/${order.order_id}/pack`, body);
        say(res.awb ? t("packed") + " " + res.awb : t("pending"), "ok");
        const result = card.querySelector(".result");
        result.className = "result awb"; result.textContent = res.awb ? `${res.courier.toUpperCase()} ${res.awb}` : "";
        recent.unshift({ order_id: order.order_id, ref: order.external_id || order.order_id, awb: res.awb, courier: res.courier || "" });
        recent.splice(RECENT);
        renderRecent();
        if (res.awb) await printLabel(order.order_id);  // the packer prints it from the new tab
        setTimeout(() => renderPacking(orders.slice(1)), res.awb ? 600 : 1200);
      } catch (e) { say(e.message, "error"); }
    });
    box.appendChild(card);
    card.querySelector("input").focus();
  }

  $("signin").addEventListener("click", async () => {
    key = $("apikey").value.trim();
    try {
      await api("GET", "/bins");
      localStorage.setItem("gudang.staffKey", key); show(true); say("");
    } catch (e) { say(t("badkey"), "error"); }
  });
  $("logout").addEventListener("click", () => { localStorage.removeItem("gudang.staffKey"); key = ""; show(false); });
  $("lang").addEventListener("click", () => { lang = lang === "id" ? "en" : "id"; localStorage.setItem("gudang.lang", lang); applyLang(); });
  $("next").addEventListener("click", nextList);
  $("picked").addEventListener("click", confirmPicked);
  $("scan").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { const code = ev.target.value.trim(); ev.target.value = ""; if (code) onScan(code); }
  });
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => tab(b.dataset.tab)));
  $("openInbound").addEventListener("click", openInbound);
  $("inbound").addEventListener("keydown", (ev) => { if (ev.key === "Enter") openInbound(); });
  Object.entries(COURIERS).forEach(([c, name]) => {
    const b = document.createElement("button"); b.type = "button"; b.className = "secondary"; b.textContent = name;
    b.dataset.courier = c; b.addEventListener("click", () => handOver(c)); $("couriers").appendChild(b);
  });
  fetch("/static/strings.json").then((r) => r.json()).then((strings) => {
    T = strings;
    applyLang();
    show(Boolean(key));
  }).catch(() => say("Gagal memuat teks; muat ulang halaman. / Could not load texts; reload.", "error"));
})();
