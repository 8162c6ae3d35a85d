/** Small formatting helpers for messages, the status bar and documents. */

export { formatBytes } from '../../../protocol/units';

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function signed(n: number, format: (x: number) => string = formatCount): string {
  return n > 0 ? `+${format(n)}` : n < 0 ? `-${format(-n)}` : '0';
}
