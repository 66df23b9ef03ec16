/** The pure core: parser, checker, timeline, diagram. No editor dependency. */
export * from './syntax/ast';
export { parse, type ParseTuning, lineOffset, parseDuration, utf8Length, CALLS, FLAG_WORDS, SEGMENT_FIELDS, SEGMENT_OPTIONS, OPTION_KEYS } from './syntax/parser';
export * from './tcp/states';
export * from './tcp/seq';
export { flagText } from './tcp/rfc9293';
export * from './check/types';
export { Timeline, type TcbSnapshot, type SegmentNumbers } from './check/timeline';
export { CODES, codeDocAnchor, type CodeInfo } from './check/codes';
export { check, checkParsed, checkParts, checkIncremental, StreamingCheck, type WrittenSegment } from './check/checker';
export { changedLines, lineMap, type LineMap, type TextChange } from './syntax/lines';
export * from './diagram/model';
export * from './diagram/mermaid';
export { escapeText } from './diagram/escape';
