/**
 * `tcptrace` fenced code blocks in VS Code's built-in Markdown preview: this
 * markdown-it plugin marks them (keeping the source as a normal code block, so
 * that without scripts, in other renderers or when drawing fails, the trace
 * still reads), and the preview script media/dist/markdown.js checks and draws
 * each marked block as the diagram (the way Markdown Preview Mermaid Support
 * does with Mermaid blocks).
 */
import type MarkdownIt from 'markdown-it';

export const FENCE_LANGUAGES: readonly string[] = ['tcptrace'];
export const BLOCK_CLASS = 'tcptrace-block';

export function tcptraceMarkdownPlugin(md: MarkdownIt): MarkdownIt {
  const original = md.renderer.rules.fence;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const lang = token.info.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    if (!FENCE_LANGUAGES.includes(lang)) {
      return original ? original(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
    }
    // VS Code's own attributes (data-line, code-line for scroll sync) are on the token: keep them.
    token.attrJoin('class', BLOCK_CLASS);
    return `<pre${self.renderAttrs(token)}><code class="language-tcptrace">${md.utils.escapeHtml(token.content)}</code></pre>\n`;
  };
  return md;
}
