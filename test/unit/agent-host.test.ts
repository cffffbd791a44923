import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { firstNonLoopbackIPv4, MachineIDError, parseMachineID } from '../../agent/host.js';

const addr = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null }) as NetworkInterfaceInfo;

describe('host facts', () => {
  it('machine ID is /etc/machine-id trimmed', () => {
    expect(parseMachineID('113f16a7f4a94ae2b2e5e0e7a6ed4b15\n')).toBe('113f16a7f4a94ae2b2e5e0e7a6ed4b15');
  });

  it('an empty machine ID is fatal with fleet’s message', () => {
    expect(() => parseMachineID(' \n')).toThrow(MachineIDError);
    expect(() => parseMachineID('')).toThrow(/^unable to determine local machine ID$/);
  });

  it('a machine ID that could escape its etcd keys is refused', () => {
    expect(() => parseMachineID('../other')).toThrow(
      /unable to determine local machine ID: invalid characters/,
    );
  });

  it('public IP: first non-loopback IPv4', () => {
    expect(
      firstNonLoopbackIPv4({
        lo: [addr('127.0.0.1', 'IPv4', true), addr('::1', 'IPv6', true)],
        eth0: [addr('fe80::1', 'IPv6'), addr('10.1.2.3', 'IPv4')],
        eth1: [addr('192.168.0.9', 'IPv4')],
      }),
    ).toBe('10.1.2.3');
  });

  it('public IP: empty when only loopback or IPv6', () => {
    expect(
      firstNonLoopbackIPv4({ lo: [addr('127.0.0.1', 'IPv4', true)], eth0: [addr('fe80::1', 'IPv6')] }),
    ).toBe('');
  });
});
