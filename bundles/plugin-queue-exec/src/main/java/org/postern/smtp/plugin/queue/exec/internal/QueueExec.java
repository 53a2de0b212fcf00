package org.postern.smtp.plugin.queue.exec.internal;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.plugin.queue.program.internal.MessagePipe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Queues each accepted message by piping it to a program, {@code sendmail -i -f <sender> -- <recipients>} unless
 * configured otherwise. The envelope goes into the program's arguments, never through a shell. Exit status 0 is a
 * 250; the statuses configured as permanent a 554; any other, a timeout or a program that cannot run a 451, so the
 * client keeps the message and tries again.
 */
@Component(service = QueueHook.class, configurationPid = QueueExec.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = QueueExec.Config.class)
@PosternPlugin("queue/exec")
@PosternHook("queue")
@HookOrder(900)
public final class QueueExec implements QueueHook {
    static final String PID = "org.postern.smtp.plugin.queue.exec";
    private static final Logger LOG = LoggerFactory.getLogger(QueueExec.class);
    /** sysexits.h, for log lines: sendmail and most local mail programs exit with these. */
    private static final List<String> SYSEXITS = List.of("EX_USAGE", "EX_DATAERR", "EX_NOINPUT", "EX_NOUSER", "EX_NOHOST",
            "EX_UNAVAILABLE", "EX_SOFTWARE", "EX_OSERR", "EX_OSFILE", "EX_CANTCREAT", "EX_IOERR", "EX_TEMPFAIL",
            "EX_PROTOCOL", "EX_NOPERM", "EX_CONFIG");
    private static final int EX_BASE = 64;

    @ObjectClassDefinition(name = "Postern plugin: queue/exec",
            description = "Queues messages by piping them to a program such as sendmail")
    public @interface Config {
        @AttributeDefinition(description = "The program and its arguments, separated by blanks: %s the envelope sender "
                + "(empty for <>), %r the recipients, one argument each (appended at the end when the command has no %r), "
                + "%% a percent sign")
        String command() default "/usr/sbin/sendmail -i -f %s --";

        @AttributeDefinition(description = "Exit statuses that refuse the message for good (554), e.g. '65 67 68' or "
                + "'11-40'; any other status but 0 is a temporary failure (451)")
        String permanent_codes() default "";

        @AttributeDefinition(description = "Seconds a delivery may take, waiting for a free slot included; then the "
                + "program is killed and the client gets 451. Keep it under the core's queue.timeout")
        int timeout() default 60;

        @AttributeDefinition(description = "Programs running at once")
        int max_processes() default 8;

        @AttributeDefinition(description = "Messages that may wait for a free slot; beyond them a message gets 451 at once")
        int max_waiting() default 100;
    }

    private final List<String> command;
    private final boolean recipientsPlaced;
    private final boolean optionsEnded;
    private final BitSet permanent;
    private final MessagePipe pipe;

    @Activate
    public QueueExec(Config config) {
        this.command = List.of(config.command().strip().split("\\s+"));
        if (command.get(0).isEmpty()) {
            throw new IllegalArgumentException("configuration " + PID + ": key 'command' is empty");
        }
        for (String word : command) {
            checkPlaceholders(word);
        }
        int recipients = command.indexOf("%r");
        this.recipientsPlaced = recipients >= 0;
        int endOfOptions = command.indexOf("--");
        this.optionsEnded = endOfOptions >= 0 && (recipients < 0 || endOfOptions < recipients);
        if (!optionsEnded) {
            LOG.warn("configuration {}: no '--' before the recipients in '{}': messages to an address that starts with '-' "
                    + "are refused, as the program would take it for an option", PID, config.command());
        }
        this.permanent = MessagePipe.permanentStatuses(PID, config.permanent_codes());
        this.pipe = MessagePipe.configured(PID, command.get(0), config.timeout(), config.max_processes(), config.max_waiting());
    }

    @Deactivate
    void deactivate() {
        pipe.close();
    }

    @Override
    public HookResult onQueue(HookContext ctx) {
        String sender = ctx.transaction().sender().map(QueueExec::argument).orElse("");
        List<String> recipients = ctx.transaction().recipients().stream().map(Recipient::address).map(QueueExec::argument).toList();
        if (!optionsEnded) {
            for (String recipient : recipients) {
                if (recipient.startsWith("-")) {
                    ctx.log(LogLevel.WARN, "refused: recipient " + recipient + " would be an option to " + command.get(0)
                            + " (no '--' in its command)");
                    return HookResult.deny("Recipient address not supported here").withReplyCode(554).withEnhancedStatus("5.1.3");
                }
            }
        }
        return HookResult.later(pipe.run(ctx, expand(sender, recipients)).handle((exit, failure) -> failure != null
                ? pipe.failure(ctx, failure) : pipe.verdict(ctx, exit, permanent, QueueExec::describe, () -> HookResult.ok("Queued"))));
    }

    /** The command with the placeholders filled in: one argument per word, the recipients one each. */
    List<String> expand(String sender, List<String> recipients) {
        List<String> arguments = new ArrayList<>();
        for (String word : command) {
            if (word.equals("%r")) {
                arguments.addAll(recipients);
            } else {
                arguments.add(word.replace("%%", "\0").replace("%s", sender).replace('\0', '%'));
            }
        }
        if (!recipientsPlaced) {
            arguments.addAll(recipients);
        }
        return arguments;
    }

    /**
     * An address as a mail program reads it on its command line: the RFC 5321 form without angle brackets, its local
     * part quoted where it must be (sendmail parses each argument as an address, and would split {@code john doe}).
     */
    static String argument(Address address) {
        String path = address.format();
        return path.substring(1, path.length() - 1);
    }

    private static void checkPlaceholders(String word) {
        for (int i = word.indexOf('%'); i >= 0; i = word.indexOf('%', i + 2)) {
            char code = i + 1 < word.length() ? word.charAt(i + 1) : ' ';
            if (code == 'r' && !word.equals("%r")) {
                throw new IllegalArgumentException("configuration " + PID + ": key 'command': %r must be a word of its own, not part of '" + word + "'");
            }
            if (code != 's' && code != 'r' && code != '%') {
                throw new IllegalArgumentException("configuration " + PID + ": key 'command': unknown placeholder in '" + word
                        + "' (%s, %r and %% are known)");
            }
        }
    }

    /** A status with its sysexits.h name. */
    private static String describe(int status) {
        int index = status - EX_BASE;
        return index >= 0 && index < SYSEXITS.size() ? status + " (" + SYSEXITS.get(index) + ")" : Integer.toString(status);
    }
}
