/** Capture import (pcap, pcapng): pure, streaming; the caller does the I/O. */
export { compressionOf, GunzipSource, isGzip, type Compression } from './compressed';
export { CaptureError, CaptureReader, splitUnits, type CaptureFormat, type CaptureInterface, type PacketRecord } from './reader';
export { decodeFrame, formatIp4, formatIp6, newTcpPacket, LINK_TYPE_NAMES, type SkipReason, type TcpPacket } from './decode';
export { Connection, ConnectionTracker, SegmentTable, type CaptureEndpoint, type SegmentExtra } from './tracker';
export { planDeliveries, type DeliveryPlan } from './reconstruct';
export { ByteSink } from './textbuf';
export { summarize, writeTrace, writeTraceTo, type ConnectionSummary, type EndKind, type OpeningKind, type WriteOptions } from './writer';
export {
  CaptureImporter,
  captureStem,
  copiesText,
  damagePlace,
  formatText,
  importCapture,
  importCaptureAsync,
  importCaptureBytes,
  type ImportOptions,
  type ImportReport,
  type ReadAt,
  type ReadAtAsync,
} from './import';
