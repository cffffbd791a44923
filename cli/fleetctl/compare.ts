/** Byte-wise string order (Go's sort.Strings), not locale order: `sleep@10` sorts before `sleep@2`. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
