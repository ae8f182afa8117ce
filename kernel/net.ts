/** IP addresses and CIDR blocks (IPv4 and IPv6) for API-key allow lists. */
import { BlockList, isIP } from 'node:net';

/** `::ffff:1.2.3.4` (IPv4-mapped, as sockets report IPv4 peers on dual-stack) → `1.2.3.4`. */
export function normaliseIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped?.[1] ?? ip;
}

/**
 * Normalises an address or CIDR block: a bare address becomes /32 or /128, the network part is
 * kept as written. Returns null when it is not a valid IPv4/IPv6 address or block.
 */
export function normaliseCidr(value: string): string | null {
  const [addr, prefix, extra] = value.trim().split('/');
  if (!addr || extra !== undefined) return null;
  const version = isIP(addr);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  if (prefix === undefined) return `${addr.toLowerCase()}/${max}`;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return null;
  return `${addr.toLowerCase()}/${Number(prefix)}`;
}

/** Whether `ip` falls inside any of the normalised `blocks`. */
export function ipAllowed(ip: string | null, blocks: readonly string[]): boolean {
  if (blocks.length === 0) return true;
  if (!ip) return false;
  const addr = normaliseIp(ip);
  const version = isIP(addr);
  if (version === 0) return false;
  const list = new BlockList();
  for (const block of blocks) {
    const [net, prefix] = block.split('/');
    const v = isIP(net ?? '');
    if (!net || v === 0) continue;
    list.addSubnet(net, Number(prefix), v === 4 ? 'ipv4' : 'ipv6');
  }
  return list.check(addr, version === 4 ? 'ipv4' : 'ipv6');
}
