// The DESCRIPTION paragraph and EXAMPLE of every command's `fleetctl help <command>` (fleet's help
// had a one-line summary only; new users asked what each command does and how it is typed).
export interface CommandHelp {
  readonly description: string;
  readonly example: string;
}

export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  submit: {
    description:
      'Stores unit files in the cluster without scheduling them. A unit that already exists with other contents is refused unless --replace is given.',
    example: 'fleetctl submit hello.service web@.service',
  },
  load: {
    description:
      'Submits the units if needed and lets the engine place them on machines, where systemd loads but does not start them. Waits until each unit is loaded unless --no-block.',
    example: 'fleetctl load hello.service',
  },
  start: {
    description:
      'Submits and loads the units if needed, then starts them on the machines the engine chose, honouring [X-Fleet] constraints. Waits until each unit is launched unless --no-block.',
    example: 'fleetctl start web@1.service web@2.service',
  },
  stop: {
    description:
      'Stops the units on their machines; they stay placed there (loaded) and can be started again.',
    example: 'fleetctl stop web@1.service',
  },
  unload: {
    description: 'Stops the units and removes them from their machines; they stay submitted in the cluster.',
    example: 'fleetctl unload hello.service',
  },
  destroy: {
    description:
      'Stops and unloads the units and deletes them from the cluster. Waits until the agents have unloaded them.',
    example: 'fleetctl destroy hello.service',
  },
  restart: {
    description: 'Restarts running units in place, on the machines they run on (systemctl restart there).',
    example: 'fleetctl restart web@1.service',
  },
  cat: {
    description: 'Prints the unit file as it is stored in the cluster.',
    example: 'fleetctl cat hello.service',
  },
  'list-units': {
    description:
      'Shows every unit placed on a machine with its systemd states (LOAD, ACTIVE, SUB) as the agents last reported them.',
    example: 'fleetctl list-units --fields=unit,machine,active --full',
  },
  'list-unit-files': {
    description:
      'Shows every unit submitted to the cluster with its desired state (DSTATE), current state and target machine.',
    example: 'fleetctl list-unit-files --no-legend',
  },
  'list-machines': {
    description: 'Shows the machines running fleetd in the cluster, with their public IP and metadata.',
    example: 'fleetctl list-machines --full',
  },
  drain: {
    description:
      'Marks a machine unschedulable (kept in etcd across restarts) and moves its non-global units elsewhere one at a time, each after the previous is active; units that cannot run anywhere else stay and are reported (exit 2).',
    example: 'fleetctl drain 2ab8c1f3',
  },
  'etcd-roles': {
    description:
      "Prints an etcdctl script creating the roles fleet-engine (schedule writes), fleet-admin (fleetctl, API), fleet-readonly and, per machine ID given, fleet-agent-<id> (that machine's own keys only), each with a user of the same name for client-certificate logins; the user of a machine named in --engine also holds fleet-engine. Run it with etcd root credentials; see docs/etcd-security.md.",
    example: 'fleetctl etcd-roles --engine 2ab8c1f3d4e5 9f0e1d2c3b4a | sh',
  },
  undrain: {
    description: 'Lets a drained machine take units again.',
    example: 'fleetctl undrain 2ab8c1f3',
  },
  plan: {
    description:
      "Shows, without writing anything, where each unit would be placed if started now (as `start --replace` of these files), which other units would move (Replaces, MachineOf, Conflicts) and why a unit could not be placed, using the engine's own planner on a snapshot of the cluster. Exit 0 when everything places, 2 when something does not.",
    example: 'fleetctl plan db.service web@1.service web@2.service',
  },
  'list-runs': {
    description:
      'Shows the last runs of a unit scheduled with X-Fleet Schedule= (cluster cron): when, where, result and exit status, and the next tick.',
    example: 'fleetctl list-runs -n 5 backup.service',
  },
  status: {
    description:
      'Prints systemctl status of the units, run on the machine each unit is placed on (over SSH for other machines; see --ssh-username).',
    example: 'fleetctl --ssh-username=root status web@1.service',
  },
  journal: {
    description:
      "Prints the unit's journal from the machine it is placed on (journalctl over SSH for other machines); -f follows it.",
    example: 'fleetctl journal -n 50 -f web@1.service',
  },
  ssh: {
    description:
      'Opens a shell, or runs a command, on a machine given by ID prefix or by a unit placed on it. Logs in as --ssh-username (fleet\'s default "core" exists only on CoreOS).',
    example: 'fleetctl --ssh-username=root ssh web@1.service uptime',
  },
  'fd-forward': {
    description:
      "Copies stdin and stdout to a unix socket; fleetctl runs it on a remote machine to reach that machine's fleet API through an SSH tunnel.",
    example: 'fleetctl fd-forward /var/run/fleet.sock',
  },
  sync: {
    description:
      'Makes the cluster run exactly the unit files of a directory: submits, starts, replaces (templates one instance at a time) and destroys units it owns. --watch keeps converging on every change. --dry-run prints the actions and then the placements they would lead to, as `fleetctl plan` does.',
    example: 'fleetctl sync --dry-run /etc/fleet/units',
  },
  'rolling-update': {
    description:
      'Replaces the launched instances of a template with the contents of TEMPLATE-FILE, --max-parallel at a time. An instance counts as updated once it has been active, and healthy if the unit declares [X-Fleet] HealthCheck=, for --min-healthy-time; if one is not within --healthy-deadline (or fails), the update stops, rolls the unproven instances back to their previous contents and exits 1 with the reason. Not-running instances and the submitted template follow after success.',
    example:
      'fleetctl rolling-update --max-parallel 1 --min-healthy-time 30s examples/galera/galera@.service',
  },
  verify: {
    description: "Kept for fleet's command list: signed units were removed from fleet; always fails.",
    example: 'fleetctl verify hello.service',
  },
  version: {
    description: "Prints fleetctl's version (the fleet-ts package version).",
    example: 'fleetctl version',
  },
};
