/**
 * The one place a leak report is shown. With a person driving: the memory panel (src/extension/webview: leak groups, growth,
 * retainer paths), a message naming the biggest leak with "go to" buttons, and a picker over all leak groups.
 * Always: a markdown rendering as a Leak Lens document, which is what automation and tests read, and the fallback
 * when the panel cannot open.
 */
import * as vscode from 'vscode';
import type { EngineClient } from '../../../engine/client';
import { samplingBytesPerRound, samplingSiteText } from '../../../render/words';
import { reportError } from '../errors';
import { log, logChannel } from '../log';
import { MemoryPanel, rememberReportTitle } from '../webview/memoryPanel';
import { LeakLensDocuments, showMarkdown } from './documents';
import { formatBytes, formatCount } from './format';
import { openLocation, shortLocation } from './locations';
import { reportMarkdown } from './markdown';
import type { LeakGroup, LeakReport, SamplingFindings } from '../../../protocol/report';

/** What showing a report needs from the extension. */
export interface ReportContext {
  documents: LeakLensDocuments;
  extension: vscode.ExtensionContext;
  engine: () => EngineClient;
}

export interface ShowReportOptions {
  /** A person is waiting: open the panel and offer navigation. False in tests and automation. */
  interactive: boolean;
  title?: string;
}

/** Shows a report; resolves with the URI of its markdown document. */
export async function showReport(
  report: LeakReport,
  context: ReportContext,
  options: ShowReportOptions = { interactive: true },
): Promise<vscode.Uri> {
  const title = options.title ?? `Leak report ${new Date().toLocaleTimeString()}`;
  const uri = context.documents.newUri(title);
  context.documents.set(uri, reportMarkdown(report));
  // A code lens of this report opens the report panel under this title again.
  rememberReportTitle(report, title);
  if (!options.interactive) {
    await showMarkdown(uri, { preview: false });
    return uri;
  }
  try {
    // The report panel: a live memory timeline open beside it stays as it is.
    const open = MemoryPanel.of('report');
    if (open) {
      open.showReport(report, title);
      open.reveal('leaks');
    } else MemoryPanel.show(context.extension, context.engine(), { title, report, initialView: 'leaks' }, logChannel());
  } catch (error) {
    log().warn(`the memory panel could not open (${String(error)}); showing the report as a document`);
    await showMarkdown(uri, { preview: true });
  }
  offerNavigation(report);
  return uri;
}

function describeGroup(g: LeakGroup): string {
  return `${g.className} ×${formatCount(g.count)} (+${formatCount(g.growthPerRound)} per round) held by ${g.owner.name}`;
}

/** A message with the headline and buttons; never awaited, so commands finish while it is up. */
function offerNavigation(report: LeakReport): void {
  if (report.sampling) {
    offerSamplingNavigation(report.sampling);
    return;
  }
  if (report.verdict === 'clean') {
    void vscode.window.showInformationMessage(
      `Leak Lens found no leak across ${report.snapshots.length} snapshots. If memory still grows, try more rounds or a heavier workload.`,
    );
    return;
  }
  const top = report.leaks[0];
  const buttons = [
    top.owner.location ? 'Go to Owner' : undefined,
    top.allocationSites[0]?.location ? 'Go to Allocation' : undefined,
    report.leaks.length > 1 ? 'All Leaks...' : undefined,
  ].filter((b): b is string => !!b);
  const more = report.leaks.length > 1 ? ` and ${report.leaks.length - 1} more` : '';
  void vscode.window
    .showWarningMessage(
      `Leak Lens found ${report.leaks.length === 1 ? 'a leak' : `${report.leaks.length} leaks`}: ${describeGroup(top)}, ${formatBytes(top.retainedSize)} retained${more}.`,
      ...buttons,
    )
    .then((picked) => {
      if (picked === 'Go to Owner' && top.owner.location)
        void openLocation(top.owner.location).catch((e: unknown) => reportError(e, 'open the owner'));
      else if (picked === 'Go to Allocation' && top.allocationSites[0]?.location)
        void openLocation(top.allocationSites[0].location).catch((e: unknown) =>
          reportError(e, 'open the allocation site'),
        );
      else if (picked === 'All Leaks...') void pickLeakGroup(report);
    });
}

/** The sampling mode's headline: the top growing stack, with a button to its allocation line. */
function offerSamplingNavigation(s: SamplingFindings): void {
  const top = s.growth[0];
  if (!top) {
    void vscode.window.showInformationMessage(
      `Leak Lens found no allocation stack that grows every round in ${s.rounds} rounds of allocation sampling. A small leak may draw no sample: try more rounds or a heavier workload.`,
    );
    return;
  }
  const more = s.growth.length > 1 ? ` and ${s.growth.length - 1} more` : '';
  const where = top.site.location ? ` at ${shortLocation(top.site.location)}` : '';
  void vscode.window
    .showWarningMessage(
      `Leak Lens (allocation sampling): objects allocated in ${samplingSiteText(top)}${where} grow every round, about +${formatBytes(samplingBytesPerRound(top, s.interval))} live per round${more}. Sampling cannot tell what holds them.`,
      ...(top.site.location ? ['Go to Allocation'] : []),
    )
    .then((picked) => {
      if (picked === 'Go to Allocation' && top.site.location)
        void openLocation(top.site.location).catch((e: unknown) => reportError(e, 'open the allocation site'));
    });
}

interface GroupItem extends vscode.QuickPickItem {
  group: LeakGroup;
}

const goToOwner: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('go-to-file'), tooltip: 'Go to the owner' };
const goToAllocation: vscode.QuickInputButton = {
  iconPath: new vscode.ThemeIcon('symbol-constructor'),
  tooltip: 'Go to where the objects are allocated',
};

/** A picker over the leak groups; choosing one opens its owner, the item buttons open the allocation site. */
export async function pickLeakGroup(report: LeakReport): Promise<void> {
  const qp = vscode.window.createQuickPick<GroupItem>();
  qp.title = 'Leak Lens: leak groups';
  qp.placeholder = 'Pick a leak group to go to the code that holds it';
  qp.items = report.leaks.map((g) => ({
    label: `${g.className} ×${formatCount(g.count)}`,
    description: `held by ${g.owner.name}`,
    detail: `+${formatCount(g.growthPerRound)} per round · ${formatBytes(g.retainedSize)} retained${g.owner.location ? ` · ${shortLocation(g.owner.location)}` : ''}${g.allocationSites[0] ? ` · allocated in ${g.allocationSites[0].function}() ${shortLocation(g.allocationSites[0].location)}` : ''}`,
    buttons: [
      g.owner.location ? goToOwner : undefined,
      g.allocationSites[0]?.location ? goToAllocation : undefined,
    ].filter((b): b is vscode.QuickInputButton => !!b),
    group: g,
  }));
  const go = (loc: LeakGroup['owner']['location']): void => {
    qp.hide();
    if (loc) void openLocation(loc).catch((e: unknown) => reportError(e, 'open the location'));
  };
  qp.onDidAccept(() => {
    const g = qp.selectedItems[0]?.group;
    if (g) go(g.owner.location ?? g.allocationSites[0]?.location ?? g.classLocation);
  });
  qp.onDidTriggerItemButton((e) =>
    go(e.button === goToOwner ? e.item.group.owner.location : e.item.group.allocationSites[0]?.location),
  );
  qp.onDidHide(() => qp.dispose());
  qp.show();
}
