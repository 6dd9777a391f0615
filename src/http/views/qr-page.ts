/**
 * `/companies/:id/qr`: the live pairing QR drawn as SVG (the qrcode package), or the pairing
 * code, or "connected". The page polls its fragment every 2 s and swaps it when it changed, since
 * WhatsApp rotates the QR about every 20 s.
 */
import QRCode from "qrcode";
import { wardenCommand } from "../../cli-invocation.js";
import type { PairingRow } from "../../store/connections.js";
import { escapeHtml, page } from "./html.js";

/** The inner part of the QR page (also served alone at /companies/:id/qr/fragment). */
export async function renderQrFragment(
  company: string,
  state: string,
  pairing: PairingRow | undefined,
): Promise<string> {
  if (pairing?.qr) {
    const svg = await QRCode.toString(pairing.qr, {
      type: "svg",
      errorCorrectionLevel: "L",
      margin: 4,
      width: 360,
      color: { dark: "#000000", light: "#ffffff" },
    });
    return `<div id="qr-code" data-state="qr" style="width:360px;height:360px;background:#fff">${svg}</div>
<p>Open WhatsApp on the phone &rarr; Linked devices &rarr; Link a device, and scan. The code changes as WhatsApp rotates it.</p>`;
  }
  if (pairing?.pairingCode)
    return `<div id="qr-code" data-state="code"><p>Pairing code: <b style="font-size:2rem;letter-spacing:.2rem">${escapeHtml(pairing.pairingCode)}</b></p>
<p>WhatsApp &rarr; Linked devices &rarr; Link with phone number instead, then type this code.</p></div>`;
  if (state === "open")
    return `<div id="qr-code" data-state="connected"><p><b>Connected.</b> ${escapeHtml(company)} is paired.</p></div>`;
  return `<div id="qr-code" data-state="waiting"><p>No QR yet (connection: ${escapeHtml(state)}). Ask for one with <code>${escapeHtml(wardenCommand(`pair ${company}`))}</code>; this page shows it as soon as the worker has it.</p></div>`;
}

/** The whole QR page around its fragment. */
export function renderQrPage(company: string, fragment: string): string {
  const url = `/companies/${encodeURIComponent(company)}/qr/fragment`;
  const script = `let last=document.getElementById('live').innerHTML;
setInterval(async()=>{try{const r=await fetch(${JSON.stringify(url)},{credentials:'same-origin',cache:'no-store'});
if(!r.ok)return;const t=await r.text();if(t!==last){last=t;document.getElementById('live').innerHTML=t;}}catch(e){}},2000);`;
  return page(
    `${company} QR - wa-warden`,
    `<p><a href="/companies/${encodeURIComponent(company)}">&larr; ${escapeHtml(company)}</a></p><h1>Link ${escapeHtml(company)}</h1><div id="live">${fragment}</div><script>${script}</script>`,
  );
}
