package org.postern.smtp.plugin.queue.lmtp.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
import org.postern.smtp.api.Transaction;
import org.postern.smtp.api.monitor.PeerCheck;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.client.ClientSettings;
import org.postern.smtp.client.Delivery;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.client.Reply;
import org.postern.smtp.client.SmtpClient;
import org.postern.smtp.client.TlsPolicy;

/**
 * Delivers each message to a mail store over LMTP (RFC 2033), such as Dovecot's or Cyrus's, over TCP or a Unix
 * socket. The recipients must all be accepted before the message is sent, so a refused one leaves nothing
 * delivered; after the final dot each recipient gets its own reply, and those make one answer (see
 * {@link #answer}). {@link HookContext#commit()} is asked just before the final dot. As a {@link PeerCheck} it tells
 * health checks whether the LMTP server greets.
 */
@Component(service = {QueueHook.class, PeerCheck.class}, configurationPid = LmtpQueue.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = LmtpQueue.Config.class)
@PosternPlugin("queue/lmtp")
@PosternHook("queue")
@HookOrder(900)
public final class LmtpQueue implements QueueHook, PeerCheck {
    static final String PID = "org.postern.smtp.plugin.queue.lmtp";

    @ObjectClassDefinition(name = "Postern plugin: queue/lmtp")
    public @interface Config {
        @AttributeDefinition(description = "The LMTP server: host:port ([address]:port for IPv6; port 24 if none), or the absolute path of a Unix socket")
        String lmtp_server();

        @AttributeDefinition(description = "STARTTLS: none, may (opportunistic), encrypt (required, unverified), verify (required, certificate checked)")
        String tls() default "none";

        @AttributeDefinition(description = "For tls = verify: PEM file of the certificates to trust; empty for the JVM's trust store")
        String tls_ca_file() default "";

        @AttributeDefinition(description = "Name for LHLO; empty for the server's own name (me)")
        String lhlo() default "";

        @AttributeDefinition(description = "Most connections open to the LMTP server at once")
        int pool_size() default 4;

        @AttributeDefinition(description = "Seconds an idle connection is kept for the next message")
        int pool_idle() default 30;

        @AttributeDefinition(description = "Seconds to connect")
        int timeout_connect() default 10;

        @AttributeDefinition(description = "Seconds for each reply to a command")
        int timeout_command() default 60;

        @AttributeDefinition(description = "Seconds the server may take no part of the message while it is sent")
        int timeout_data() default 180;

        @AttributeDefinition(description = "Seconds for each recipient's reply after the final dot")
        int timeout_data_end() default 300;
    }

    private final Destination destination;
    private final String lhlo;
    private final ExecutorService readers;
    private final SmtpClient client;

    @Activate
    public LmtpQueue(Config config) {
        destination = destination(config.lmtp_server() == null ? "" : config.lmtp_server().strip())
                .withTls(TlsPolicy.parse(config.tls()), config.tls_ca_file().isBlank() ? null : Path.of(config.tls_ca_file()));
        lhlo = config.lhlo().strip();
        readers = Executors.newFixedThreadPool(Math.max(2, config.pool_size()));
        client = SmtpClient.create(ClientSettings.defaults()
                .withTimeouts(Duration.ofSeconds(config.timeout_connect()), Duration.ofSeconds(config.timeout_command()),
                        Duration.ofSeconds(config.timeout_data()), Duration.ofSeconds(config.timeout_data_end()))
                .withPool(config.pool_size(), Duration.ofSeconds(config.pool_idle())), readers);
    }

    @Deactivate
    void deactivate() {
        client.close();
        readers.shutdown();
    }

    /** {@code /path} is a Unix socket; {@code host:port}, {@code [v6 address]:port} or a bare host (port 24) is TCP. */
    static Destination destination(String server) {
        if (server.startsWith("/")) {
            return Destination.lmtp(Path.of(server));
        }
        int colon = server.lastIndexOf(':');
        boolean hasPort = colon > server.lastIndexOf(']') && server.indexOf(':') == colon || server.startsWith("[") && colon > server.indexOf(']');
        String host = hasPort ? server.substring(0, colon) : server;
        if (host.isEmpty()) {
            throw new IllegalArgumentException(PID + ": lmtp.server is required (host:port or the path of a Unix socket)");
        }
        return Destination.lmtp(host.replaceAll("^\\[(.*)]$", "$1"), hasPort ? Integer.parseInt(server.substring(colon + 1)) : 24);
    }

    @Override
    public String peer() {
        return "LMTP server " + destination.address();
    }

    /** Whether the LMTP server greets: its 220 line, or a failure with its refusing greeting or the client's own reply. */
    @Override
    public CompletionStage<String> probe(Duration timeout) {
        return client.greet(destination, timeout).thenApply(Reply::toString);
    }

    @Override
    public HookResult onQueue(HookContext ctx) {
        Transaction transaction = ctx.transaction();
        Envelope envelope = Envelope.of(transaction.sender().filter(sender -> !sender.isNullSender()).map(Address::address).orElse(""),
                transaction.recipients().stream().map(recipient -> recipient.address().address()).toList()).toAllRecipientsOrNone();
        if ("8BITMIME".equalsIgnoreCase(transaction.mailParameters().get("body"))) {
            envelope = envelope.withBody(Envelope.Body.EIGHT_BIT_MIME);
        }
        Destination to = destination.withHeloName(lhlo.isEmpty() ? ctx.config("me", "localhost") : lhlo);
        return HookResult.later(client.send(to, envelope, MessageSource.of(transaction.size(), transaction::message), ctx::commit)
                .thenApply(delivery -> answer(ctx, to, delivery)));
    }

    /**
     * One answer for all recipients, as the client can get only one. OK when every recipient got the message.
     * Otherwise DENYSOFT when a retry may deliver to some recipient still without it (a temporary failure of one, or
     * trouble reaching the server), else DENY: a permanent refusal the sender must bounce. Recipients that got the
     * message before the others failed get it again when the sender retries after a DENYSOFT, and appear in the
     * sender's bounce after a DENY though they have it; both are logged, as the price of losing no message.
     */
    static HookResult answer(HookContext ctx, Destination to, Delivery delivery) {
        Reply reply = delivery.reply();
        String where = to.address() + " (" + delivery.stage().name().toLowerCase(Locale.ROOT) + ")";
        if (delivery.outcome() == Delivery.Outcome.DELIVERED) {
            ctx.log(LogLevel.INFO, "delivered at " + where + ": " + reply);
            return HookResult.ok();
        }
        String refused = delivery.summary();
        ctx.log(LogLevel.WARN, "not delivered at " + where + ": " + refused);
        if (!delivery.delivered().isEmpty()) {
            ctx.log(LogLevel.WARN, "delivered only to " + String.join(", ", delivery.delivered().stream().map(Delivery.RecipientResult::recipient).toList())
                    + (delivery.outcome() == Delivery.Outcome.RETRY ? ", who get it again when the client retries" : ", who still appear in its bounce"));
        }
        boolean permanent = delivery.outcome() == Delivery.Outcome.FAILED;
        Reply answer = permanent ? reply : reply.asTransientFailure();
        HookResult result = permanent ? HookResult.deny("Delivery failed (" + refused + ")")
                : HookResult.denySoft("Delivery failed temporarily (" + refused + ")");
        return answer.enhancedStatus().isEmpty() ? result.withReplyCode(answer.code())
                : result.withReplyCode(answer.code()).withEnhancedStatus(answer.enhancedStatus());
    }
}
