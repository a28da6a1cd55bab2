// The packer's tablet: the shell every screen shares (sign-in, language, messages, the API, PDFs).
// Each screen (receive, pick, pack, hand over) lives in its own tablet-<screen>.js and registers
// itself with Tablet.screen(); the screens' files load after this one.
(() => {
  // the one table of strings, shared with the pages (tablet.* keys): /static/strings.json
  let T = null;
  const screens = {};  // name -> {show(arg), lang()}
  const $ = (id) => document.getElementById(id);
  const Tablet = {
    $,
    lang: localStorage.getItem("gudang.lang") || "id",
    key: localStorage.getItem("gudang.staffKey") || "",
    t: (k) => T["tablet." + k][Tablet.lang],
    has: (k) => Boolean(T && T["tablet." + k]),
    rupiah: (n) => "Rp " + Number(n).toLocaleString("id-ID"),
    newKey: () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()),
    COURIERS: { jne: "JNE", jnt: "J&T", sicepat: "SiCepat", anteraja: "AnterAja", ninja: "Ninja Xpress",
                pos: "Pos Indonesia", idexpress: "ID Express", gosend: "GoSend", grabexpress: "GrabExpress" },
  };
  window.Tablet = Tablet;

  Tablet.screen = (name, handlers) => { screens[name] = handlers; };
  // `text` may be a function: it is called again when the language changes, so a message
  // on screen is always in the packer's language
  let said = null;
  Tablet.say = (text, kind) => {
    said = typeof text === "function" ? { text, kind } : null;
    const m = $("message"); m.textContent = (said ? text() : text) || ""; m.className = kind || "";
  };

  // A refusal in the packer's language: the server's stable `code` (and the fields it names)
  // mapped through strings.json, never the server's English message.
  Tablet.problem = (e) => {
    if (e.local) return e.message;
    const has = (k) => Boolean(T["tablet." + k]);
    if (!e.code) return Tablet.t("err.NETWORK");
    const text = has("err." + e.code) ? Tablet.t("err." + e.code) : `${Tablet.t("err.other")} (${e.code})`;
    if (e.code !== "VALIDATION_ERROR" && e.code !== "UNVERIFIED_UNITS") return text;
    const names = Object.keys(e.fields || {}).map((f) => {
      if (f.startsWith("items.")) return f.slice(6);
      const last = f.split(".").pop();
      return has("field." + last) ? Tablet.t("field." + last) : f;
    });
    return names.length ? `${text} ${names.join(", ")}` : text;
  };
  Tablet.sayProblem = (e) => Tablet.say(() => Tablet.problem(e), "error");

  // Open a screen; `arg` is what the screen opening it hands over (e.g. the orders just picked).
  Tablet.tab = (name, arg) => {
    Object.keys(screens).forEach((id) => $(id).classList.toggle("hidden", id !== name));
    document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("secondary", b.dataset.tab !== name));
    if (name && screens[name].show) screens[name].show(arg);
  };

  // A scanner is a keyboard: it types the code and Enter. `handle(code)` gets each scan.
  Tablet.onScan = (input, handle) => {
    input.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter") return;
      const code = ev.target.value.trim();
      ev.target.value = "";
      if (code) handle(code);
    });
  };

  Tablet.api = async (method, path, body, headers) => {
    const resp = await fetch("/api/v1" + path, {
      method,
      headers: Object.assign({ "Authorization": "Bearer " + Tablet.key, "Content-Type": "application/json" }, headers || {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = resp.status === 204 ? null : await resp.json();
    if (!resp.ok) {
      const err = data && data.error ? data.error : { message: resp.statusText };
      const fields = err.fields ? " (" + Object.keys(err.fields).join(", ") + ")" : "";
      throw Object.assign(new Error(err.message + fields), { code: err.code, fields: err.fields, status: resp.status });
    }
    return data;
  };

  // The label needs the staff key, which a plain link cannot send: fetch the PDF and open it
  // from memory in a new tab, where the browser's PDF viewer prints it.
  Tablet.openPdf = async (path, popupMessage) => {
    const resp = await fetch("/api/v1" + path, { headers: { "Authorization": "Bearer " + Tablet.key } });
    if (!resp.ok) {
      let err = { message: resp.statusText, code: "" };
      try { err = (await resp.json()).error; } catch (e) { /* not JSON: keep the status text */ }
      throw Object.assign(new Error(err.message), { code: err.code });
    }
    const url = URL.createObjectURL(await resp.blob());
    const win = window.open(url, "_blank");
    setTimeout(() => URL.revokeObjectURL(url), 10 * 60 * 1000);
    if (!win) throw Object.assign(new Error(popupMessage || Tablet.t("popup")), { local: true });
  };

  function applyLang() {
    document.documentElement.lang = Tablet.lang;
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = Tablet.t(el.dataset.t); });
    Object.values(screens).forEach((s) => { if (s.lang) s.lang(); });
    if (said) Tablet.say(said.text, said.kind);
    $("lang").textContent = Tablet.lang === "id" ? "English" : "Bahasa Indonesia";
  }
  function show(signedIn) {
    $("login").classList.toggle("hidden", signedIn);
    $("tabs").classList.toggle("hidden", !signedIn);
    $("logout").classList.toggle("hidden", !signedIn);
    Tablet.tab(signedIn ? "pick" : null);
  }

  $("signin").addEventListener("click", async () => {
    Tablet.key = $("apikey").value.trim();
    try {
      await Tablet.api("GET", "/bins");
      localStorage.setItem("gudang.staffKey", Tablet.key); show(true); Tablet.say("");
    } catch (e) { Tablet.say(Tablet.t("badkey"), "error"); }
  });
  $("logout").addEventListener("click", () => { localStorage.removeItem("gudang.staffKey"); Tablet.key = ""; show(false); });
  $("lang").addEventListener("click", () => {
    Tablet.lang = Tablet.lang === "id" ? "en" : "id";
    localStorage.setItem("gudang.lang", Tablet.lang);
    applyLang();
  });
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => Tablet.tab(b.dataset.tab)));
  // the screens' files run after this one (all deferred, in order): boot once they are registered
  window.addEventListener("DOMContentLoaded", () => {
    fetch("/static/strings.json").then((r) => r.json()).then((strings) => {
      T = strings;
      applyLang();
      show(Boolean(Tablet.key));
    }).catch(() => Tablet.say("Gagal memuat teks; muat ulang halaman. / Could not load texts; reload.", "error"));
  });
})();
