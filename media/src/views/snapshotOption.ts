/** One snapshot in a picker: the label the user knows it by, with its file name as the option's tooltip. */
import type { SnapshotRef } from '../../../protocol/webview';
import { h } from '../dom';

export function snapshotOption(s: SnapshotRef, index: number): HTMLOptionElement {
  return h('option', { attrs: { value: index, title: s.detail } }, s.label || `Snapshot ${index + 1}`);
}
