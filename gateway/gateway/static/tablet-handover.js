// The hand-over screen: a courier's pickup opens a manifest; each parcel the courier takes is
// scanned by its AWB label; closing hands the scanned parcels over (the others wait for the
// next pickup) and the manifest PDF is printed for the courier to sign.
(() => {
  const { $, t, say } = Tablet;
  const OPEN_KEY = "gudang.manifest";  // the pickup under way at this tablet, reopened on reload
  let manifest = null;

  function parcelRow(p) {
    const li = document.createElement("li");
    li.className = "parcel" + (p.scanned ? " done" : "");
    li.dataset.awb = p.awb;
    li.innerHTML = `<span class="awb-no"></span><span class="ref"></span>`;
    li.querySelector(".awb-no").textContent = p.awb;
    li.querySelector(".ref").textContent = (p.external_id || p.order_id) + (p.cod_amount ? ` · ${t("cod")} ${Tablet.rupiah(p.cod_amount)}` : "");
    return li;
  }

  function render() {
    const box = $("manifest");
    box.innerHTML = "";
    const open = Boolean(manifest) && manifest.status !== "closed";
    $("handoverScanCard").classList.toggle("hidden", !open);
    if (!manifest) return;
    const card = document.createElement("div");
    card.className = "card manifest " + manifest.status;
    card.innerHTML = `<div class="awb"></div><div class="sum"></div>
      <label data-t="notScanned"></label><ol class="awbs pending"></ol>
      <label data-t="handedScanned"></label><ol class="awbs scanned"></ol><div class="row actions"></div>`;
    const scanned = manifest.parcels.filter((p) => p.scanned);
    card.querySelector(".awb").textContent = `${manifest.courier_name} · ${scanned.length} / ${manifest.parcel_count} ${t("parcels")}`;
    card.querySelector(".sum").textContent = `${t("cod")} ${Tablet.rupiah(manifest.cod_total)} · ${manifest.manifest_id}`;
    manifest.parcels.forEach((p) => card.querySelector(p.scanned ? ".awbs.scanned" : ".awbs.pending").appendChild(parcelRow(p)));
    card.querySelectorAll("ol.awbs").forEach((ol) => {  // no heading over an empty list
      ol.classList.toggle("hidden", !ol.children.length); ol.previousElementSibling.classList.toggle("hidden", !ol.children.length);
    });
    const actions = card.querySelector(".actions");
    if (open) actions.appendChild(button("close-manifest", "closeManifest", closeManifest, scanned.length === 0));
    actions.appendChild(button("secondary print-manifest", "printManifest", printManifest));
    card.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    box.appendChild(card);
  }

  function button(className, key, onClick, disabled) {
    const b = document.createElement("button");
    b.type = "button"; b.className = className; b.dataset.t = key; b.disabled = Boolean(disabled);
    b.addEventListener("click", onClick);
    return b;
  }

  function keep(m) {
    manifest = m;
    if (m.status === "closed") localStorage.removeItem(OPEN_KEY); else localStorage.setItem(OPEN_KEY, m.manifest_id);
    render();
  }

  async function startPickup(courier) {
    say("");
    try {
      keep(await Tablet.api("POST", "/warehouse/manifests", { courier }, { "Idempotency-Key": Tablet.newKey() }));
      $("handoverScan").focus();
    } catch (e) {
      if (e.code === "UNPROCESSABLE") say(() => t("nothing"), "error"); else Tablet.sayProblem(e);
    }
  }

  async function scan(awb) {
    if (!manifest) return;
    try {
      const m = await Tablet.api("POST", `/warehouse/manifests/${encodeURIComponent(manifest.manifest_id)}/scans`, { awb });
      keep(m);
      say(() => `${t("awbOk")} ${m.scanned}`, "ok");
    } catch (e) { Tablet.sayProblem(e); }
  }

  async function closeManifest() {
    try {
      const m = await Tablet.api("POST", `/warehouse/manifests/${encodeURIComponent(manifest.manifest_id)}/close`);
      keep(m);
      say(() => `${t("manifestClosed")} ${m.parcel_count} ${t("parcels")}. ${t("leftForNext")}`, "ok");
    } catch (e) { Tablet.sayProblem(e); }
  }

  async function printManifest() {
    try { await Tablet.openPdf(`/warehouse/manifests/${encodeURIComponent(manifest.manifest_id)}.pdf`); } catch (e) { Tablet.sayProblem(e); }
  }

  async function show() {
    const open = localStorage.getItem(OPEN_KEY);
    if (!open || manifest) { render(); return; }
    try { keep(await Tablet.api("GET", `/warehouse/manifests/${encodeURIComponent(open)}`)); } catch (e) { localStorage.removeItem(OPEN_KEY); }
  }

  Object.entries(Tablet.COURIERS).forEach(([c, name]) => {
    const b = document.createElement("button"); b.type = "button"; b.className = "secondary"; b.textContent = name;
    b.dataset.courier = c; b.addEventListener("click", () => startPickup(c)); $("couriers").appendChild(b);
  });
  Tablet.onScan($("handoverScan"), scan);
  Tablet.screen("handover", { show, lang: render });
})();
