/** The command line's words for a failed file operation: `FILE: no such file`, `FILE: permission denied`, ... */
export function ioText(file: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `${file}: no such file`;
  if (code === 'EISDIR') return `${file}: is a directory`;
  if (code === 'EACCES') return `${file}: permission denied`;
  return `${file}: ${e instanceof Error ? e.message : String(e)}`;
}
