package org.postern.smtp.plugin.queue.postfixqueue.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.BlockingCalls;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code queue/postfix-queue}: queues each accepted message straight into Postfix through its cleanup
 * service, as Postfix's own pickup does: over the {@code public/cleanup} socket (or a cleanup service on TCP), with
 * qpsmtpd's flags for cleanup. Cleanup's status becomes the reply, with qpsmtpd's table: DEFER, PROXY, BAD and WRITE
 * temporary, RCPT, HOPS, SIZE and CONT permanent. The socket is blocking I/O, so each message goes on a thread of the
 * plugin's own.
 */
@Component(service = QueueHook.class, configurationPid = PostfixQueue.PID)
@Designate(ocd = PostfixQueue.Config.class)
@PosternPlugin("queue/postfix-queue")
@PosternHook("queue")
@HookOrder(900)
public final class PostfixQueue implements QueueHook {
    static final String PID = "org.postern.smtp.plugin.queue.postfix_queue";
    private static final Logger LOG = LoggerFactory.getLogger(PostfixQueue.class);
    /** Postfix's cleanup_user.h, as qpsmtpd's Qpsmtpd::Postfix::Constants has them. */
    static final Map<String, Integer> FLAGS = Map.ofEntries(
            Map.entry("FLAG_NONE", 0), Map.entry("FLAG_BOUNCE", 1), Map.entry("FLAG_FILTER", 1 << 1),
            Map.entry("FLAG_HOLD", 1 << 2), Map.entry("FLAG_DISCARD", 1 << 3), Map.entry("FLAG_BCC_OK", 1 << 4),
            Map.entry("FLAG_MAP_OK", 1 << 5), Map.entry("FLAG_MILTER", 1 << 6), Map.entry("FLAG_FILTER_ALL", (1 << 1) | (1 << 6)),
            Map.entry("FLAG_MASK_EXTERNAL", (1 << 1) | (1 << 6) | (1 << 4) | (1 << 5)), Map.entry("FLAG_MASK_INTERNAL", 1 << 5),
            Map.entry("FLAG_MASK_EXTRA", (1 << 2) | (1 << 3)));

    /** A status bit of cleanup's answer, what it means for the client, and the words when cleanup gives none. */
    private record Status(int bit, boolean temporary, String enhanced, String text) {
    }

    /** Temporary ones first: a status with both kinds of bit (the message was incomplete) is retried, as in qpsmtpd. */
    private static final List<Status> STATUSES = List.of(
            new Status(1 << 8, true, "4.7.1", "service unavailable"),
            new Status(1 << 7, true, "4.3.0", "queue file write error"),
            new Status(1, true, "4.3.0", "internal protocol error"),
            new Status(1 << 1, true, "4.3.0", "queue file write error"),
            new Status(1 << 6, false, "5.1.0", "no recipients specified"),
            new Status(1 << 4, false, "5.4.0", "too many hops"),
            new Status(1 << 2, false, "5.3.4", "message file too big"),
            new Status(1 << 3, false, "5.7.1", "message content rejected"));
    private static final Pattern ENHANCED_STATUS = Pattern.compile("^([245]\\.\\d{1,3}\\.\\d{1,3}) +(.*)$", Pattern.DOTALL);

    @ObjectClassDefinition(name = "Postern plugin: queue/postfix-queue",
            description = "Queues messages into Postfix through its cleanup service")
    public @interface Config {
        @AttributeDefinition(description = "Postfix's cleanup socket, a path or host:port; the config item "
                + "cleanup_sockets (several, tried in order) and the environment variable POSTFIXQUEUE override it, as in qpsmtpd")
        String socket() default "/var/spool/postfix/public/cleanup";

        @AttributeDefinition(description = "Flags for cleanup, e.g. FLAG_MASK_EXTERNAL (header and body checks, milters, "
                + "address mapping, automatic BCC), separated by blanks or commas; none by default")
        String flags() default "";

        @AttributeDefinition(description = "Seconds a delivery may take, connecting and waiting for a free slot "
                + "included; then the client gets 451. Keep it under the core's queue.timeout")
        int timeout() default 60;

        @AttributeDefinition(description = "Connections to cleanup at once")
        int max_connections() default 8;

        @AttributeDefinition(description = "Messages that may wait for a free connection; beyond them a message gets 451 at once")
        int max_waiting() default 100;
    }

    private final String socket;
    private final String environmentSocket;
    private final int flags;
    private final Duration timeout;
    private final BlockingCalls calls;

    @Activate
    public PostfixQueue(Config config) {
        this(config, System.getenv());
    }

    PostfixQueue(Config config, Map<String, String> environment) {
        this.socket = config.socket().strip();
        this.environmentSocket = environment.getOrDefault("POSTFIXQUEUE", "").strip();
        this.flags = flags(config.flags());
        if (config.timeout() < 1 || config.max_connections() < 1 || config.max_waiting() < 1) {
            throw new IllegalArgumentException("configuration " + PID + ": keys 'timeout', 'max.connections' and 'max.waiting' "
                    + "must be at least 1, not " + config.timeout() + ", " + config.max_connections() + " and " + config.max_waiting());
        }
        this.timeout = Duration.ofSeconds(config.timeout());
        this.calls = new BlockingCalls("queue-postfix", config.max_connections(), config.max_waiting());
    }

    /** The flags' bits; an unknown name is logged and left out, as qpsmtpd does. */
    static int flags(String names) {
        int bits = 0;
        for (String name : names.strip().split("[\\s,]+")) {
            if (name.isEmpty()) {
                continue;
            }
            Integer bit = FLAGS.get(name.toUpperCase(Locale.ROOT));
            if (bit == null) {
                LOG.warn("configuration {}: ignoring unknown cleanup flag {} (known: {})", PID, name, FLAGS.keySet());
            } else {
                bits |= bit;
            }
        }
        return bits;
    }

    @Deactivate
    void deactivate() {
        calls.close();
    }

    @Override
    public HookResult onQueue(HookContext ctx) {
        List<String> sockets = sockets(ctx);
        return HookResult.later(calls.call(() -> deliver(ctx, sockets), timeout).exceptionally(failure -> failed(ctx, failure)));
    }

    /** qpsmtpd's order: POSTFIXQUEUE, else the config item cleanup_sockets, else the configured socket. */
    List<String> sockets(HookContext ctx) {
        if (!environmentSocket.isEmpty()) {
            return List.of(environmentSocket);
        }
        List<String> configured = ctx.config("cleanup_sockets").stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        return configured.isEmpty() ? List.of(socket) : configured;
    }

    private HookResult deliver(HookContext ctx, List<String> sockets) throws IOException {
        try (SocketChannel channel = connect(ctx, sockets)) {
            if (channel == null) {
                return temporary("cleanup service unreachable");
            }
            CleanupSession cleanup = new CleanupSession(new BufferedInputStream(Channels.newInputStream(channel)),
                    new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024));
            String queueId = cleanup.open(flags);
            String sender = ctx.transaction().sender().map(Address::address).orElse("");
            List<String> recipients = ctx.transaction().recipients().stream().map(Recipient::address).map(Address::address).toList();
            cleanup.envelope(System.currentTimeMillis() / 1000, sender, recipients);
            try (InputStream message = ctx.transaction().message()) {
                cleanup.message(message);
            }
            // cleanup writes the queue file at the END record: without it, closing the connection leaves nothing queued
            if (!ctx.commit()) {
                ctx.log(LogLevel.WARN, "message " + queueId + " not finished: the server stopped waiting for it");
                return temporary("withdrawn");
            }
            return verdict(ctx, queueId, cleanup.finish());
        }
    }

    /** A connection to the first socket that takes one, or null. */
    private static SocketChannel connect(HookContext ctx, List<String> sockets) {
        for (String candidate : sockets) {
            try {
                return candidate.startsWith("/") ? SocketChannel.open(UnixDomainSocketAddress.of(candidate)) : SocketChannel.open(inet(candidate));
            } catch (IOException | IllegalArgumentException e) {
                ctx.log(LogLevel.ERROR, "cannot connect to cleanup at " + candidate + ": " + e);
            }
        }
        return null;
    }

    private static SocketAddress inet(String hostAndPort) {
        int colon = hostAndPort.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("neither a path nor host:port");
        }
        String host = hostAndPort.substring(0, colon).replaceAll("^\\[(.*)]$", "$1");
        return new InetSocketAddress(host, Integer.parseInt(hostAndPort.substring(colon + 1)));
    }

    private static HookResult verdict(HookContext ctx, String queueId, CleanupSession.Outcome outcome) {
        if (outcome.status() == 0) {
            ctx.log(LogLevel.INFO, "queued as " + queueId);
            String messageId = ctx.transaction().header().map(header -> header.get("Message-Id")).filter(ids -> !ids.isEmpty())
                    .map(ids -> ids.get(0).strip()).orElse("");
            return HookResult.ok("Queued! " + messageId + " (Queue-Id: " + queueId + ")");
        }
        ctx.log(LogLevel.WARN, "cleanup refused " + queueId + ": status " + outcome.status() + ", " + outcome.reason());
        for (Status status : STATUSES) {
            if ((outcome.status() & status.bit()) != 0) {
                // cleanup's reason starts with its own enhanced status code where it has one ("5.7.1 no spam here")
                Matcher coded = ENHANCED_STATUS.matcher(outcome.reason().strip());
                String enhanced = coded.matches() ? coded.group(1) : status.enhanced();
                String text = coded.matches() ? coded.group(2) : outcome.reason().isBlank() ? status.text() : outcome.reason().strip();
                HookResult result = status.temporary() ? HookResult.denySoft(text) : HookResult.deny(text);
                return result.withEnhancedStatus(enhanced);
            }
        }
        return temporary(outcome.status() + ", " + outcome.reason());
    }

    private HookResult failed(HookContext ctx, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof RejectedExecutionException) {
            ctx.log(LogLevel.WARN, "every connection to cleanup and waiting place taken (or the plugin stopped); try again later");
            return temporary("busy");
        }
        if (cause instanceof TimeoutException) {
            ctx.log(LogLevel.ERROR, "cleanup did not answer within " + timeout.toSeconds() + " s");
            return temporary("timeout");
        }
        ctx.log(LogLevel.ERROR, "cannot hand the message to cleanup: " + cause);
        return temporary("cleanup failed");
    }

    /** A temporary failure in qpsmtpd's words, as 451 4.3.0. */
    private static HookResult temporary(String why) {
        return HookResult.denySoft("Unable to queue message (" + why + ")").withReplyCode(451).withEnhancedStatus("4.3.0");
    }
}
