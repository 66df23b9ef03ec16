/**
 * Entry of media/dist/mermaid.js: Mermaid bundled whole (every diagram type
 * inlined, nothing fetched at run time) and exposed as `globalThis.mermaid`
 * for the preview, the Markdown preview and the command line's renderer,
 * which all load this one file.
 */
import mermaid from 'mermaid';

(globalThis as { mermaid?: typeof mermaid }).mermaid = mermaid;
