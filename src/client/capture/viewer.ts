/**
 * The capture viewer's page (the read-only custom editor for .pcap and
 * .pcapng files): what the capture holds and a table of its connections,
 * which the user can filter (by any text of a row) and sort (by id, packets,
 * bytes, start, duration), each row with a button that opens its trace. No
 * `vscode` import: the page is tested in headless Chromium.
 */
import { LINK_TYPE_NAMES, copiesText, damagePlace, formatText, type ConnectionSummary, type ImportReport } from '../../core/capture';
import { escapeHtml } from '../preview/html';

export function fmtDuration(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(1)} ms`;
  return `${(s * 1e6).toFixed(0)} µs`;
}

export function plural(n: number, w: string): string {
  return `${n.toLocaleString('en-US')} ${w}${n === 1 ? '' : 's'}`;
}

export function damageText(report: ImportReport): string | undefined {
  const e = report.error;
  if (!e) return undefined;
  return `damaged at ${damagePlace(report)}: ${e.message} The ${plural(report.connections, 'connection')} read before it ${report.connections === 1 ? 'is' : 'are'} listed.`;
}

/** The body of the viewer: what the capture holds, then a filter and a sortable table of its connections. */
export function listingHtml({ report, connections }: { report: ImportReport; connections: readonly ConnectionSummary[] }): string {
  const links = report.linkTypes.map((t) => LINK_TYPE_NAMES[t] ?? `link type ${t}`).join(', ');
  const other = report.packets - report.segments;
  const parts: string[] = [];
  parts.push(
    `<p class="summary">${escapeHtml(formatText(report, 'unknown format'))}${links ? ` (${escapeHtml(links)})` : ''} · ${plural(report.packets, 'packet')} · ${plural(
      report.segments,
      'TCP segment',
    )}${report.copies > 0 ? ` (${escapeHtml(copiesText(report.copies))}, written once)` : ''}${other > 0 ? ` · ${plural(other, 'other packet')} skipped` : ''} · ${plural(connections.length, 'connection')}</p>`,
  );
  const damage = damageText(report);
  if (damage) parts.push(`<p class="error" role="alert">The capture is ${escapeHtml(damage)}</p>`);
  if (connections.length === 0) {
    parts.push('<p class="muted">No TCP connection in this capture.</p>');
    return parts.join('\n');
  }
  parts.push(
    `<p class="filter"><input type="search" id="filter" placeholder="Filter: address, port, how it ended…" aria-label="Filter the connections" autocomplete="off"> <span id="shown" class="muted" aria-live="polite">${plural(connections.length, 'connection')}</span></p>`,
  );
  const th = (label: string, key: string, num: boolean): string =>
    `<th scope="col"${num ? ' class="num"' : ''} data-sort="${key}" aria-sort="${key === 'id' ? 'ascending' : 'none'}"><button class="sort" title="Sort by ${label.toLowerCase()}">${label}</button></th>`;
  parts.push(
    `<table><thead><tr>${th('#', 'id', true)}<th scope="col">From</th><th scope="col">To</th>${th('Packets', 'packets', true)}${th('Bytes', 'bytes', true)}${th('Start', 'start', true)}${th(
      'Duration',
      'duration',
      true,
    )}<th scope="col">How it ended</th><th scope="col"><span class="sr">Open</span></th></tr></thead><tbody>`,
  );
  for (const c of connections) {
    parts.push(
      `<tr data-id="${c.id}" data-packets="${c.packets}" data-bytes="${c.bytes[0] + c.bytes[1]}" data-start="${c.start}" data-duration="${c.duration}"><td class="num">${c.id}</td><td>${escapeHtml(c.names[0])} <code>${escapeHtml(c.endpoints[0].text)}</code></td><td>${escapeHtml(c.names[1])} <code>${escapeHtml(
        c.endpoints[1].text,
      )}</code></td><td class="num">${c.packets.toLocaleString('en-US')}</td><td class="num">${c.bytes[0].toLocaleString('en-US')} / ${c.bytes[1].toLocaleString(
        'en-US',
      )}</td><td class="num">${c.start.toFixed(3)} s</td><td class="num">${escapeHtml(fmtDuration(c.duration))}</td><td>${escapeHtml(c.ended)}${
        c.opening === 'mid' ? ' <span class="muted">(starts mid-connection)</span>' : ''
      }${c.reuses !== undefined ? ` <span class="muted">(reuses #${c.reuses}'s 4-tuple)</span>` : ''}</td><td><button data-id="${c.id}" title="Open connection ${c.id} as a .tcptrace with its diagram">Open trace</button></td></tr>`,
    );
  }
  parts.push('</tbody></table>');
  return parts.join('\n');
}

/** The viewer's page (`cspSource`: the webview's, for its stylesheets). */
export function viewerPage(cspSource: string, nonce: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 1em 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--vscode-editorWidget-border, rgba(128,128,128,.35)); vertical-align: baseline; }
th { font-weight: 600; position: sticky; top: 0; background: var(--vscode-editor-background); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:hover td { background: var(--vscode-list-hoverBackground); }
code { font-family: var(--vscode-editor-font-family); }
.muted { color: var(--vscode-descriptionForeground); }
.error { color: var(--vscode-errorForeground); }
.summary { color: var(--vscode-descriptionForeground); }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 3px 10px; cursor: pointer; border-radius: 2px; }
button:hover { background: var(--vscode-button-hoverBackground); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
button.sort { color: inherit; background: none; padding: 0; font: inherit; font-weight: 600; }
th[aria-sort="ascending"] button.sort::after { content: " ▲"; }
th[aria-sort="descending"] button.sort::after { content: " ▼"; }
.filter input { width: min(32em, 60%); color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, transparent); padding: 3px 6px; }
.filter input:focus { outline: 1px solid var(--vscode-focusBorder); }
tr[hidden] { display: none; }
</style></head>
<body>
${body}
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
const tbody = document.querySelector('tbody');
const rows = tbody ? [...tbody.rows] : [];
// Each row's text, lower-cased, read once.
const texts = new Map(rows.map((r) => [r, r.textContent.toLowerCase()]));
document.addEventListener('click', (e) => {
  const t = e.target instanceof Element ? e.target : null;
  const open = t && t.closest('button[data-id]');
  if (open) return vscode.postMessage({ type: 'open', id: Number(open.getAttribute('data-id')) });
  const th = t && t.closest('th[data-sort]');
  if (th) sortBy(th);
});
// Numbers sort largest first on the first click (the busiest connections), ids smallest first.
function sortBy(th) {
  const key = th.getAttribute('data-sort');
  const was = th.getAttribute('aria-sort');
  const dir = was === 'none' ? (key === 'id' ? 'ascending' : 'descending') : was === 'ascending' ? 'descending' : 'ascending';
  for (const other of document.querySelectorAll('th[data-sort]')) other.setAttribute('aria-sort', 'none');
  th.setAttribute('aria-sort', dir);
  const sign = dir === 'ascending' ? 1 : -1;
  const value = (r) => Number(r.getAttribute('data-' + key));
  const sorted = [...rows].sort((a, b) => sign * (value(a) - value(b)) || value(a) - value(b) || Number(a.getAttribute('data-id')) - Number(b.getAttribute('data-id')));
  tbody.append(...sorted);
}
const filter = document.getElementById('filter');
const shown = document.getElementById('shown');
let pending;
filter?.addEventListener('input', () => {
  clearTimeout(pending);
  // Thousands of rows: filter once typing pauses.
  pending = setTimeout(applyFilter, rows.length > 2000 ? 150 : 0);
});
function applyFilter() {
  const terms = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
  let n = 0;
  for (const r of rows) {
    const text = texts.get(r);
    const hide = !terms.every((term) => text.includes(term));
    r.hidden = hide;
    if (!hide) n++;
  }
  shown.textContent = terms.length ? n.toLocaleString('en-US') + ' of ' + rows.length.toLocaleString('en-US') + ' connections' : rows.length.toLocaleString('en-US') + (rows.length === 1 ? ' connection' : ' connections');
}
</script>
</body></html>`;
}
