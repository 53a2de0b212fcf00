package org.postern.smtp.plugin.queue.qmailqueue.internal;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.plugin.queue.program.internal.MessagePipe;

/**
 * qpsmtpd's {@code queue/qmail-queue}: queues each accepted message with qmail-queue, or any program speaking its
 * protocol (simscan, qmail-scanner, netqmail's and notqmail's qmail-queue): the message on descriptor 0, then the
 * envelope on descriptor 1, {@code F<sender>\0T<recipient>\0...\0}. The program queues the message once it has read
 * the envelope's final NUL, and its exit status says how it went: 0 queued, 11 to 40 refused for good, any other a
 * temporary failure.
 */
@Component(service = QueueHook.class, configurationPid = QmailQueue.PID)
@Designate(ocd = QmailQueue.Config.class)
@PosternPlugin("queue/qmail-queue")
@PosternHook("queue")
@HookOrder(900)
public final class QmailQueue implements QueueHook {
    static final String PID = "org.postern.smtp.plugin.queue.qmail_queue";
    /**
     * Java hands a child its descriptors 0 to 2 only, as pipes or files, and writes into one of them, standard input;
     * qmail-queue wants a second input, and on descriptor 1. So a shell builds it: the message stays on standard
     * input (kept on 3 meanwhile), and {@code printf} writes the envelope into a pipe that becomes qmail-queue's
     * descriptor 1 ({@code 1<&0} takes the pipe before {@code 0<&3} puts the message back on 0). The addresses are
     * the shell's arguments, printed with {@code %s}, never part of the script's text. The pipeline's status, and so
     * the shell's, is qmail-queue's.
     */
    static final String WITH_ENVELOPE_ON_FD1 = "q=$0 from=$1; shift; exec 3<&0; "
            + "{ printf 'F%s\\0' \"$from\"; for to; do printf 'T%s\\0' \"$to\"; done; printf '\\0'; } 0<&- 3<&- "
            + "| \"$q\" 1<&0 0<&3 3<&-";

    @ObjectClassDefinition(name = "Postern plugin: queue/qmail-queue",
            description = "Queues messages with qmail-queue or a program speaking its protocol")
    public @interface Config {
        @AttributeDefinition(description = "The qmail-queue program; empty: $QMAIL/bin/qmail-queue, QMAIL being "
                + "/var/qmail when not set. The environment variable QMAILQUEUE overrides both, as in qpsmtpd")
        String qmail_queue() default "";

        @AttributeDefinition(description = "Exit statuses that refuse the message for good (554); qmail-queue's "
                + "permanent errors are 11 to 40. Empty: every failure temporary (451), as in qpsmtpd")
        String permanent_codes() default "11-40";

        @AttributeDefinition(description = "Seconds a delivery may take, waiting for a free slot included; then the "
                + "program is killed and the client gets 451. Keep it under the core's queue.timeout")
        int timeout() default 60;

        @AttributeDefinition(description = "Programs running at once")
        int max_processes() default 8;

        @AttributeDefinition(description = "Messages that may wait for a free slot; beyond them a message gets 451 at once")
        int max_waiting() default 100;
    }

    private final String program;
    private final BitSet permanent;
    private final MessagePipe pipe;

    @Activate
    public QmailQueue(Config config) {
        this(config, System.getenv());
    }

    QmailQueue(Config config, Map<String, String> environment) {
        this.program = program(config.qmail_queue().strip(), environment);
        if (!program.startsWith("/")) {
            // as qpsmtpd, which refuses anything but an absolute path; here the shell would look it up in PATH
            throw new IllegalArgumentException("configuration " + PID + ": the qmail-queue program must be an absolute path, not '" + program + "'");
        }
        this.permanent = MessagePipe.permanentStatuses(PID, config.permanent_codes());
        this.pipe = MessagePipe.configured(PID, program, config.timeout(), config.max_processes(), config.max_waiting());
    }

    /** qpsmtpd's choice: QMAILQUEUE, else the configured program, else qmail-queue under QMAIL or /var/qmail. */
    static String program(String configured, Map<String, String> environment) {
        String override = environment.getOrDefault("QMAILQUEUE", "");
        if (!override.isEmpty()) {
            return override;
        }
        if (!configured.isEmpty()) {
            return configured;
        }
        String qmail = environment.getOrDefault("QMAIL", "");
        return (qmail.isEmpty() ? "/var/qmail" : qmail) + "/bin/qmail-queue";
    }

    @Deactivate
    void deactivate() {
        pipe.close();
    }

    String program() {
        return program;
    }

    @Override
    public HookResult onQueue(HookContext ctx) {
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", WITH_ENVELOPE_ON_FD1, program,
                ctx.transaction().sender().map(Address::address).orElse("")));
        ctx.transaction().recipients().stream().map(Recipient::address).map(Address::address).forEach(command::add);
        return HookResult.later(pipe.run(ctx, command).handle((exit, failure) -> failure != null ? pipe.failure(ctx, failure)
                : pipe.verdict(ctx, exit, permanent, QmailQueue::describe, () -> HookResult.ok(
                        "Queued! " + System.currentTimeMillis() / 1000 + " qp " + exit.pid() + " " + messageId(ctx)))));
    }

    /** A status, with what the shell's own ones mean: the program could not be run. */
    private static String describe(int status) {
        return switch (status) {
            case 126 -> "126 (the shell cannot execute it)";
            case 127 -> "127 (the shell cannot find it)";
            default -> Integer.toString(status);
        };
    }

    /** The message's Message-Id in angle brackets, as qpsmtpd puts it in its reply; {@code <>} when there is none. */
    private static String messageId(HookContext ctx) {
        String id = ctx.transaction().header().map(header -> header.get("Message-Id")).filter(ids -> !ids.isEmpty())
                .map(ids -> ids.get(0).strip()).orElse("");
        return id.startsWith("<") && id.endsWith(">") ? id : "<" + id + ">";
    }
}
