// An etcd lease held while something is measured: granted, kept alive by etcd3, and whether etcd3
// reported it lost meanwhile (a blocked event loop misses keepalives).

interface LeaseEvents {
  on(event: 'lost', listener: () => void): unknown;
  grant(): Promise<unknown>;
}

/** Grants `lease` and returns a probe: true once etcd3 has reported the lease lost. */
export async function holdLease(lease: LeaseEvents): Promise<() => boolean> {
  let lost = false;
  lease.on('lost', () => {
    lost = true;
  });
  await lease.grant();
  return () => lost;
}
