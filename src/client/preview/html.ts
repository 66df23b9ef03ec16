/**
 * The preview webview's page. Pure (no `vscode`), so that the Chromium tests
 * load exactly the page VS Code shows, under the same Content-Security-Policy.
 *
 * The policy: nothing by default; scripts only with this page's nonce (the
 * Mermaid bundle and the preview script, both shipped in media/); styles from
 * the extension and inline (Mermaid styles its SVG with a <style> element);
 * images from the extension and data: URLs (the PNG export draws the SVG
 * through one). No remote source of any kind; no 'unsafe-eval'.
 */
import { randomBytes } from 'node:crypto';

export interface PreviewHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** URIs (as the webview sees them) of media/mermaid.js, media/preview.js and media/preview.css. */
  mermaidUri: string;
  scriptUri: string;
  styleUri: string;
  /** Shown until the first layout arrives. */
  title: string;
  nonce?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'unsafe-inline'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** Text for HTML text and attribute values: the five characters that could end either, as character references. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function previewHtml(o: PreviewHtmlOptions): string {
  const nonce = o.nonce ?? makeNonce();
  const a = escapeHtml;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${a(contentSecurityPolicy(o.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${a(o.title)}</title>
<link rel="stylesheet" href="${a(o.styleUri)}">
</head>
<body>
<div id="toolbar" role="toolbar" aria-label="Diagram">
  <span id="counts" aria-live="polite"></span>
  <span id="lock" title="This preview is locked to its file">locked</span>
  <span class="tt-spacer"></span>
  <button id="zoom-out" title="Zoom out (-)" aria-label="Zoom out">&#8722;</button>
  <button id="zoom-level" title="Reset zoom (0)" aria-label="Reset zoom">100%</button>
  <button id="zoom-in" title="Zoom in (+)" aria-label="Zoom in">+</button>
  <button id="zoom-fit" title="Fit the width">Fit</button>
  <button data-command="exportSvg" title="Export the diagram as SVG">SVG</button>
  <button data-command="exportPng" title="Export the diagram as PNG">PNG</button>
  <button data-command="copyMermaid" title="Copy the diagram as Mermaid source">Copy</button>
</div>
<div id="banner" hidden></div>
<div id="scroller" tabindex="0" aria-label="Sequence diagram">
  <div id="sticky" hidden aria-hidden="true"></div>
  <div id="column"></div>
</div>
<div id="measure" aria-hidden="true"></div>
<script nonce="${nonce}" src="${a(o.mermaidUri)}"></script>
<script nonce="${nonce}" src="${a(o.scriptUri)}"></script>
</body>
</html>
`;
}
