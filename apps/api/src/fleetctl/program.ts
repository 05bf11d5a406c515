import { Command, CommanderError } from 'commander';
import { auditCommand } from './audit.command';
import { breakerCommand } from './breaker.command';
import { FleetApiError, UsageError } from './client';
import { CommandContext, DEFAULT_API_URL, type GlobalOptions, type Io, type Run } from './context';
import { dlqCommand } from './dlq.command';
import { eventCommand } from './event.command';

/** fleetctl's exit codes. */
export const EXIT = { ok: 0, apiError: 1, usage: 2 } as const;

/** The whole command tree, its output routed to `io`, commander's own exits turned into errors. */
export function buildProgram(io: Io): Command {
  const program = new Command('fleetctl')
    .description("operate the fleet through the api's admin routes (a token with the fleet:admin scope)")
    .option('--api <url>', `the api (env FLEET_API_URL; default ${DEFAULT_API_URL})`)
    .option('--token <jwt>', 'bearer token with fleet:admin (env FLEET_TOKEN)')
    .option('--json', "print the api's JSON instead of tables");
  const run: Run =
    (action) =>
    async (...args) => {
      const command = args[args.length - 1] as Command;
      const context = new CommandContext(io, command.optsWithGlobals<GlobalOptions>());
      await action(context, ...(args.slice(0, -1) as never[]));
    };
  for (const command of [dlqCommand(run), eventCommand(run), breakerCommand(run), auditCommand(run)]) {
    program.addCommand(command);
  }
  // Every level: a usage mistake must reach `runFleetctl` as an error, never end the process.
  const override = (command: Command) => {
    command.exitOverride().showHelpAfterError();
    command.configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    });
    command.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Runs one command line (without `node fleetctl.js`) and answers its exit code. */
export async function runFleetctl(argv: readonly string[], io: Io): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Asked-for help and the version end well; everything else commander refuses is usage.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`fleetctl: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof FleetApiError) {
      const status = error.status === 0 ? '' : ` (HTTP ${error.status})`;
      io.stderr.write(`fleetctl: ${error.code}${status}: ${error.message}\n`);
      return EXIT.apiError;
    }
    throw error;
  }
}
