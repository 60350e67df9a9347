// The driver of scripts/page-checks: fetches every public page of a running server in French and
// English (plus error states: the booking form posted empty and with a bad e-mail, the checkout
// with a bad card, "my booking" with an unknown e-mail, the 404 page), saves the HTML under
// OUT_DIR, runs the W3C Nu validator over the saved files and axe-core over each page in headless
// Chromium. Prints one line per error and a closing summary; exits 1 on any error.
//
//   node tools/page-checks/check.js BASE_URL OUT_DIR
//
// Modules (axe-core, selenium-webdriver, vnu-jar) are found through NODE_PATH (scripts/page-checks
// installs them under target/page-checks-node). CHROME_PATH and CHROMEDRIVER_PATH pick the browser
// and its driver (default /usr/bin/chromium, /usr/bin/chromedriver).
"use strict";

const fs = require("fs");
const path = require("path");

const BASE = (process.argv[2] || "").replace(/\/$/, "");
const OUT = path.resolve(process.argv[3] || "target/page-checks");
if (!BASE) {
  console.error("usage: check.js BASE_URL OUT_DIR");
  process.exit(2);
}
const CHROME = process.env.CHROME_PATH || "/usr/bin/chromium";
const DRIVER = process.env.CHROMEDRIVER_PATH || "/usr/bin/chromedriver";

// The slugs of src/web/paths.rs (Page::slug), without the home page.
const SLUGS = {
  fr: ["russ-harris", "formation", "villes", "tarifs", "temoignages", "faq", "reserver", "confidentialite", "conditions", "ressources", "commentaires"],
  en: ["russ-harris", "masterclass", "cities", "pricing", "testimonials", "faq", "book", "privacy", "terms", "resources", "feedback"],
};
const CITIES = { fr: "villes", en: "cities" };
const BOOK = { fr: "reserver", en: "book" };
const CHECKOUT = { fr: "paiement", en: "checkout" };
const LANGS = ["fr", "en"];

// ---------------------------------------------------------------- HTTP with a cookie jar

class Client {
  constructor() {
    this.cookies = new Map();
  }
  async request(method, url, form) {
    const headers = { "Accept-Language": "fr,en;q=0.5" };
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    let body;
    if (form) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      headers.Origin = BASE;
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(BASE + url, { method, headers, body, redirect: "manual" });
    const setCookies = typeof res.headers.getSetCookie === "function"
      ? res.headers.getSetCookie()
      : (res.headers.get("set-cookie") || "").split(/,(?=\s*[A-Za-z0-9_-]+=)/).filter(Boolean);
    for (const c of setCookies) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      if (i > 0) this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    return { status: res.status, location: res.headers.get("location"), text: await res.text() };
  }
  get(url) {
    return this.request("GET", url);
  }
  post(url, form) {
    return this.request("POST", url, form);
  }
}

const unescapeHtml = (s) => s.replace(/&amp;/g, "&").replace(/&#x27;|&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">");
const csrfOf = (html) => (html.match(/name="csrf_token" value="([^"]*)"/) || [])[1] || "";
const hrefs = (html) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => unescapeHtml(m[1]).replace(BASE, "").split("#")[0]);
const fileName = (url, suffix) => {
  const p = url.split("?")[0].replace(/^\/+|\/+$/g, "").replace(/[^A-Za-z0-9._-]+/g, "-") || "root";
  return (suffix ? `${p}--${suffix}` : p) + ".html";
};

// ---------------------------------------------------------------- results

const pages = []; // { name, url, file, status, expected }
const failures = []; // fetch failures: page, message
const notes = []; // pages skipped (redirects)
const validatorErrors = []; // { page, file, line, message, extract }
const axeViolations = []; // { page, rule, impact, help, target, html }

function record(name, url, res, expected, suffix) {
  const file = fileName(url, suffix);
  fs.writeFileSync(path.join(OUT, file), res.text);
  const page = { name, url, file, status: res.status, expected };
  pages.push(page);
  if (!expected.includes(res.status)) failures.push({ page: name, message: `HTTP ${res.status}, expected ${expected.join(" or ")}` });
  return page;
}

// ---------------------------------------------------------------- the browser

let driver;
async function startBrowser() {
  const { Builder } = require("selenium-webdriver");
  const chrome = require("selenium-webdriver/chrome");
  const options = new chrome.Options();
  options.setChromeBinaryPath(CHROME);
  // Without --disable-back-forward-cache the pages kept in the back/forward cache hold their live
  // seat-count EventSource connections open, and after six of them (Chromium's limit per host)
  // the next page never finishes loading.
  options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
    "--lang=fr", "--disable-back-forward-cache");
  const service = new chrome.ServiceBuilder(DRIVER);
  driver = await new Builder().forBrowser("chrome").setChromeOptions(options).setChromeService(service).build();
  await driver.manage().setTimeouts({ pageLoad: 30000, script: 60000 });
}

const AXE_SOURCE = () => fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
let axeSource;

async function waitLoaded() {
  await driver.wait(async () => (await driver.executeScript("return document.readyState")) === "complete", 30000);
}

async function runAxe(name) {
  axeSource = axeSource || AXE_SOURCE();
  await driver.executeScript(axeSource);
  const json = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    axe.run(document, { resultTypes: ["violations"] })
      .then((r) => done(JSON.stringify(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html })) })))))
      .catch((e) => done(JSON.stringify({ error: String(e) })));`);
  const result = JSON.parse(json);
  if (result.error) {
    failures.push({ page: name, message: `axe failed: ${result.error}` });
    return;
  }
  for (const v of result) {
    for (const n of v.nodes) axeViolations.push({ page: name, rule: v.id, impact: v.impact, help: v.help, target: n.target, html: n.html });
  }
}

// A GET page: the server's HTML for the validator, the page in the browser for axe.
async function checkGet(client, name, url, expected = [200]) {
  const res = await client.get(url);
  if (res.status >= 300 && res.status < 400) {
    // Not a page of its own (a booking form whose sales are closed goes to its city page).
    notes.push(`${name}: HTTP ${res.status} to ${res.location}, not checked`);
    return null;
  }
  record(name, url, res, expected);
  await driver.get(BASE + url);
  await waitLoaded();
  await runAxe(name);
  return res;
}

// An error state reached by a POST: the browser opens `url`, fills `fields` in `form`, then posts
// the form's own data (FormData, as the browser would send it) with fetch for the validator's copy,
// and submits the form for real (clicks `submitter`) for axe.
async function checkPost(name, url, suffix, form, submitter, fields, expected) {
  await driver.get(BASE + url);
  await waitLoaded();
  const [status, text] = await driver.executeAsyncScript(
    `const [formSel, submitSel, fields, done] = arguments;
     const form = document.querySelector(formSel), submitter = document.querySelector(submitSel);
     if (!form || !submitter) { done([0, "no form " + formSel + " / " + submitSel]); return; }
     for (const [sel, value] of Object.entries(fields)) {
       const el = form.querySelector(sel);
       if (el) el.value = value;
     }
     const data = new URLSearchParams(new FormData(form, submitter));
     // Not form.action: the submit buttons named "action" shadow that property.
     const action = new URL(submitter.getAttribute("formaction") || form.getAttribute("action") || location.href, location.href).href;
     fetch(action, { method: "POST", body: data, credentials: "same-origin", redirect: "manual" })
       .then(async (r) => done([r.status, await r.text()]))
       .catch((e) => done([0, String(e)]));`,
    form, submitter, fields,
  );
  if (status === 0) {
    failures.push({ page: name, message: text });
    return;
  }
  record(name, url, { status, text }, expected, suffix);
  await driver.executeScript("window.__pageChecksBefore = true; arguments[0].click();", await driver.findElement({ css: submitter }));
  await driver.wait(async () => {
    try {
      return await driver.executeScript("return window.__pageChecksBefore === undefined && document.readyState === 'complete'");
    } catch (e) {
      return false; // between two documents
    }
  }, 30000);
  await runAxe(name);
}

// ---------------------------------------------------------------- the pages

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) if (f.endsWith(".html")) fs.unlinkSync(path.join(OUT, f));
  await startBrowser();
  const client = new Client();
  const done = new Set();
  const get = async (name, url, expected) => {
    if (done.has(url)) return null;
    done.add(url);
    return checkGet(client, name, url, expected);
  };

  // The sitemap lists the public pages; the routes of src/web/mod.rs add the rest.
  const sitemap = (await client.get("/sitemap.xml")).text;
  const fromSitemap = [...sitemap.matchAll(/<loc>([^<]*)<\/loc>/g)].map((m) => unescapeHtml(m[1]).replace(/^https?:\/\/[^/]+/, ""));
  const forms = { fr: [], en: [] };
  for (const l of LANGS) {
    const fixed = [`/${l}/`, ...SLUGS[l].map((s) => `/${l}/${s}`)];
    const listed = fromSitemap.filter((u) => u.startsWith(`/${l}/`));
    for (const url of [...new Set([...fixed, ...listed])]) {
      const res = await get(url, url);
      if (!res) continue;
      // City pages and booking forms linked from the city list, the booking page and city pages.
      for (const h of hrefs(res.text)) {
        if (new RegExp(`^/${l}/${CITIES[l]}/[^/?]+$`).test(h) && !done.has(h)) fixed.push(h), listed.push(h);
        if (new RegExp(`^/${l}/${BOOK[l]}/\\d+$`).test(h) && !forms[l].includes(h)) forms[l].push(h);
      }
    }
    // Pages found on the way (city pages) that the loop above has not reached yet.
    for (let i = 0; i < listed.length; i++) {
      const res = await get(listed[i], listed[i]);
      if (!res) continue;
      for (const h of hrefs(res.text)) {
        if (new RegExp(`^/${l}/${BOOK[l]}/\\d+$`).test(h) && !forms[l].includes(h)) forms[l].push(h);
      }
    }
    const open = [];
    for (const f of forms[l]) if (await get(f, f)) open.push(f);
    forms[l] = open;
  }

  // The booking form's error states, a booking to reach the checkout, "my booking" and, once paid,
  // the confirmation and the receipt; then the 404 page.
  for (const l of LANGS) {
    const form = forms[l][0];
    if (!form) {
      failures.push({ page: `/${l}/${BOOK[l]}`, message: "no booking form linked: the error states are not checked" });
      continue;
    }
    await checkPost(`${form} (POST, empty)`, form, "post-empty", "#booking-form", "#submit-booking", {}, [422]);
    await checkPost(`${form} (POST, invalid e-mail)`, form, "post-invalid-email", "#booking-form", "#submit-booking",
      { "#first_name": "Marie", "#last_name": "Tremblay", "#email": "marie.tremblay@", "#phone": "+1 514 555 0199" }, [422]);
  }

  const form = forms.fr[0];
  if (form) {
    const book = async () => {
      const page = await client.get(form);
      const res = await client.post(form, {
        csrf_token: csrfOf(page.text), first_name: "Marie", last_name: "Tremblay", email: "marie.tremblay@example.ca",
        phone: "+1 514 555 0199", act_experience: "none", quantity: "1", action: "book",
      });
      if (res.status !== 303 || !res.location) {
        failures.push({ page: `${form} (POST, valid)`, message: `HTTP ${res.status}, expected 303 to the checkout` });
        return null;
      }
      const m = res.location.replace(BASE, "").match(/^\/fr\/paiement\/([^/?]+)\?k=(.+)$/);
      return m ? { reference: m[1], key: m[2] } : null;
    };
    // One booking stays held (its checkout page, with a bad card), the other is paid.
    const held = await book();
    const paid = await book();
    if (held) {
      for (const l of LANGS) {
        const url = `/${l}/${CHECKOUT[l]}/${held.reference}?k=${held.key}`;
        const page = await get(url, url);
        if (page && page.text.includes('id="test-card-form"')) {
          await checkPost(`${url} (POST, invalid card)`, url, "post-invalid-card", "#test-card-form", "#test-card-form [type=submit]",
            { "#card_number": "1234" }, [422]);
        }
        const manage = `/${l}/bookings/${held.reference}`;
        await get(manage, manage);
        await checkPost(`${manage} (POST, unknown e-mail)`, manage, "post-unknown-email", `form[action^="/${l}/bookings/"]`,
          `form[action^="/${l}/bookings/"] [type=submit]`, { "#email": "personne@example.org" }, [404]);
      }
    }
    if (paid) {
      const checkout = `/fr/paiement/${paid.reference}?k=${paid.key}`;
      const page = await client.get(checkout);
      if (page.text.includes('id="test-card-form"')) {
        const res = await client.post(checkout, { csrf_token: csrfOf(page.text), card_number: "4242 4242 4242 4242" });
        if (res.status !== 303) failures.push({ page: `${checkout} (POST, test card)`, message: `HTTP ${res.status}, expected 303` });
        // The confirmation waits for the (stand-in) webhook; give it a moment.
        await new Promise((r) => setTimeout(r, 1500));
        for (const l of LANGS) {
          const c = `/${l}/confirmation/${paid.reference}?k=${paid.key}`;
          await get(c, c);
          const r = `/${l}/confirmation/${paid.reference}/receipt?k=${paid.key}`;
          await get(r, r);
        }
      } else {
        failures.push({ page: checkout, message: "no test-card form (Stripe configured?): confirmation and receipt not checked" });
      }
    }
  }
  for (const l of LANGS) {
    const url = `/${l}/${l === "fr" ? "page-inexistante" : "no-such-page"}`;
    await get(`${url} (404)`, url, [404]);
  }
  await driver.quit();
  driver = null;

  // The Nu validator over every saved page (one JVM for all).
  const vnu = require.resolve("vnu-jar/build/dist/vnu.jar");
  // vnu writes its JSON report to stderr.
  const { spawnSync } = require("child_process");
  const r = spawnSync("java", ["-jar", vnu, "--errors-only", "--format", "json", "--exit-zero-always", ...pages.map((p) => path.join(OUT, p.file))],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  let report;
  try {
    report = JSON.parse(r.stderr);
  } catch (e) {
    failures.push({ page: "(all)", message: `the Nu validator did not answer JSON (exit ${r.status}): ${String(r.stderr).slice(0, 500)}` });
    report = { messages: [] };
  }
  const byFile = new Map(pages.map((p) => [p.file, p]));
  for (const m of report.messages) {
    const file = decodeURIComponent(path.basename(m.url || ""));
    const page = byFile.get(file);
    validatorErrors.push({ page: page ? page.name : file, file, line: m.lastLine, message: m.message, extract: (m.extract || "").replace(/\s+/g, " ").trim() });
  }

  // The report.
  for (const n of notes) console.log(`NOTE   ${n}`);
  for (const f of failures) console.log(`FETCH  ${f.page}: ${f.message}`);
  for (const v of validatorErrors) console.log(`VNU    ${v.page} [${v.file}:${v.line}] ${v.message} | ${v.extract}`);
  for (const a of axeViolations) console.log(`AXE    ${a.page} [${a.rule}, ${a.impact}] ${a.help} | ${a.target} | ${a.html.replace(/\s+/g, " ").slice(0, 200)}`);
  fs.writeFileSync(path.join(OUT, "report.json"), JSON.stringify({ pages, notes, failures, validatorErrors, axeViolations }, null, 2));
  const extra = failures.length ? `, ${failures.length} fetch failures` : "";
  console.log(`page-checks: ${pages.length} pages, ${validatorErrors.length} validator errors, ${axeViolations.length} axe violations${extra}`);
  process.exit(failures.length + validatorErrors.length + axeViolations.length ? 1 : 0);
}

main().catch(async (e) => {
  console.error("page-checks failed:", e && e.stack ? e.stack : e);
  if (driver) await driver.quit().catch(() => {});
  process.exit(2);
});
