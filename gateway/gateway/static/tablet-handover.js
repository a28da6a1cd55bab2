// The hand-over screen: the courier's pickup manifest, and its PDF for the courier to sign.
(() => {
  const { $, t, say } = Tablet;

  async function handOver(courier) {
    say("");
    try {
      const m = await Tablet.api("POST", "/warehouse/manifests", { courier });
      const box = $("manifest");
      box.innerHTML = `<div class="card"><div class="awb"></div><div class="sum"></div><ol class="awbs"></ol></div>`;
      box.querySelector(".awb").textContent = `${m.courier_name} · ${m.parcel_count} ${t("parcels")}`;
      box.querySelector(".sum").textContent = `${t("cod")} ${Tablet.rupiah(m.cod_total)} · ${m.manifest_id}`;
      m.parcels.forEach((p) => { const li = document.createElement("li"); li.textContent = p.awb; box.querySelector(".awbs").appendChild(li); });
      const print = document.createElement("button");
      print.type = "button"; print.className = "print-manifest"; print.textContent = t("printManifest");
      print.addEventListener("click", async () => {
        try { await Tablet.openPdf(`/warehouse/manifests/${encodeURIComponent(m.manifest_id)}.pdf`); } catch (e) { say(e.message, "error"); }
      });
      box.querySelector(".card").appendChild(print);
    } catch (e) { say(e.message.includes("Nothing") || e.message.includes("no ") ? t("nothing") : e.message, "error"); }
  }

  Object.entries(Tablet.COURIERS).forEach(([c, name]) => {
    const b = document.createElement("button"); b.type = "button"; b.className = "secondary"; b.textContent = name;
    b.dataset.courier = c; b.addEventListener("click", () => handOver(c)); $("couriers").appendChild(b);
  });
  Tablet.screen("handover", {});
})();
