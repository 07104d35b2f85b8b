import type { HopPacket } from '../model/packet.js';
import { ReportSchema, type Report } from '../model/report.js';
import { openNew, requireAbsent, runFile, writeNew } from './files.js';
import { renderHtml } from './html.js';
import { writeCapture } from './pcapng.js';
import { renderReport } from './text.js';

/** The files of one diagnose run, in its directory. */
export const RUN_FILES = ['capture.pcapng', 'report.html', 'report.json', 'report.txt'];

/** Refuses at once (before a capture that takes seconds) when one of the run's files is already there. */
export function requireRunFilesAbsent(dir: string): void {
  requireAbsent(dir, RUN_FILES);
}

/** Writes capture.pcapng, report.json, report.txt and report.html (0600, never over anything); sets report.captureFile. */
export function writeRunFiles(dir: string, report: Report, packets: HopPacket[]): void {
  report.captureFile = runFile(dir, 'capture.pcapng');
  writeCapture(openNew(report.captureFile), report, packets);
  writeNew(runFile(dir, 'report.json'), `${JSON.stringify(ReportSchema.parse(report), null, 2)}\n`);
  writeNew(runFile(dir, 'report.txt'), renderReport(report, { color: false }));
  writeNew(runFile(dir, 'report.html'), renderHtml(report, { packets }));
}
