package org.postern.smtp.plugin.queue.smtpforward.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.QueueHook;
import org.postern.smtp.api.Session;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.api.monitor.PeerCheck;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.client.ClientSettings;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.client.Reply;
import org.postern.smtp.client.SmtpClient;
import org.postern.smtp.client.TlsPolicy;

/**
 * Relays each message to a smarthost, as qpsmtpd's {@code queue/smtp-forward}, with Postern's own asynchronous
 * client: pooled connections, PIPELINING, STARTTLS, AUTH. The hook answers later, once the smarthost answered the
 * final dot, and calls {@link HookContext#commit()} just before sending that dot, so a delivery the core gave up on
 * is abandoned instead of relayed behind the client's back. The message goes to every recipient or to none (see
 * {@link Answers}). As a {@link PeerCheck} it tells health checks whether the smarthost greets.
 */
@Component(service = {QueueHook.class, PeerCheck.class}, configurationPid = SmtpForward.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = SmtpForward.Config.class)
@PosternPlugin("queue/smtp-forward")
@PosternHook("queue")
@HookOrder(900)
public final class SmtpForward implements QueueHook, PeerCheck {
    static final String PID = "org.postern.smtp.plugin.queue.smtp_forward";

    @ObjectClassDefinition(name = "Postern plugin: queue/smtp-forward")
    public @interface Config {
        @AttributeDefinition(description = "The smarthost: host name or IP address (qpsmtpd's first argument)")
        String smtp_server();

        @AttributeDefinition(description = "Its port (qpsmtpd's second argument)")
        int smtp_port() default 25;

        @AttributeDefinition(description = "Send the client's name, address, port, HELO and login with Postfix's XCLIENT (qpsmtpd's flag)")
        boolean xclient() default false;

        @AttributeDefinition(description = "STARTTLS: none, may (opportunistic), encrypt (required, unverified), verify (required, certificate checked)")
        String tls() default "may";

        @AttributeDefinition(description = "For tls = verify: PEM file of the certificates to trust; empty for the JVM's trust store")
        String tls_ca_file() default "";

        @AttributeDefinition(description = "AUTH user name; empty for no AUTH")
        String auth_user() default "";

        @AttributeDefinition(description = "AUTH password", type = AttributeType.PASSWORD)
        String auth_password() default "";

        @AttributeDefinition(description = "Send the credentials even without TLS")
        boolean auth_without_tls() default false;

        @AttributeDefinition(description = "Name for EHLO; empty for the server's own name (me)")
        String helo() default "";

        @AttributeDefinition(description = "Most connections open to the smarthost at once")
        int pool_size() default 4;

        @AttributeDefinition(description = "Seconds an idle connection is kept for the next message")
        int pool_idle() default 30;

        @AttributeDefinition(description = "Seconds to connect")
        int timeout_connect() default 30;

        @AttributeDefinition(description = "Seconds for each reply to a command")
        int timeout_command() default 60;

        @AttributeDefinition(description = "Seconds the smarthost may take no part of the message while it is sent")
        int timeout_data() default 180;

        @AttributeDefinition(description = "Seconds for the reply to the final dot")
        int timeout_data_end() default 300;
    }

    private final Destination destination;
    /** The EHLO name; empty for the server's {@code me}, asked per message so a change applies at once. */
    private final String helo;
    private final boolean xclient;
    /** Reads messages for the client, off the hook threads and Netty's. */
    private final ExecutorService readers;
    private final SmtpClient client;

    @Activate
    public SmtpForward(Config config) {
        if (config.smtp_server() == null || config.smtp_server().isBlank()) {
            throw new IllegalArgumentException(PID + ": smtp.server is required");
        }
        Destination smarthost = Destination.smtp(config.smtp_server().strip(), config.smtp_port())
                .withTls(TlsPolicy.parse(config.tls()), config.tls_ca_file().isBlank() ? null : Path.of(config.tls_ca_file()));
        destination = config.auth_user().isEmpty() ? smarthost : smarthost.withAuth(config.auth_user(), config.auth_password(), config.auth_without_tls());
        xclient = config.xclient();
        ClientSettings settings = ClientSettings.defaults()
                .withTimeouts(Duration.ofSeconds(config.timeout_connect()), Duration.ofSeconds(config.timeout_command()),
                        Duration.ofSeconds(config.timeout_data()), Duration.ofSeconds(config.timeout_data_end()))
                .withPool(config.pool_size(), Duration.ofSeconds(config.pool_idle()));
        helo = config.helo().strip();
        readers = Executors.newFixedThreadPool(Math.max(2, config.pool_size()));
        client = SmtpClient.create(settings, readers);
    }

    @Deactivate
    void deactivate() {
        client.close();
        readers.shutdown();
    }

    @Override
    public HookResult onQueue(HookContext ctx) {
        Transaction transaction = ctx.transaction();
        Destination to = destination.withHeloName(helo.isEmpty() ? ctx.config("me", "localhost") : helo);
        Envelope envelope = envelope(transaction);
        if (xclient) {
            envelope = envelope.withXclient(xclientAttributes(ctx.session()));
        }
        ctx.log(LogLevel.INFO, "forwarding to " + to.address());
        return HookResult.later(client.send(to, envelope, MessageSource.of(transaction.size(), transaction::message), ctx::commit)
                .thenApply(delivery -> Answers.forward(ctx, to, delivery)));
    }

    @Override
    public String peer() {
        return "smarthost " + destination.address();
    }

    /** Whether the smarthost greets: its 220 line, or a failure with its refusing greeting or the client's own reply. */
    @Override
    public CompletionStage<String> probe(Duration timeout) {
        return client.greet(destination, timeout).thenApply(Reply::toString);
    }

    /**
     * Sender and recipients of the transaction, to all recipients or none. The body is 8-bit when the client said
     * BODY=8BITMIME; otherwise the SMTP client reads the message once to find out.
     */
    static Envelope envelope(Transaction transaction) {
        String sender = transaction.sender().filter(address -> !address.isNullSender()).map(Address::address).orElse("");
        List<String> recipients = transaction.recipients().stream().map(recipient -> recipient.address().address()).toList();
        Envelope envelope = Envelope.of(sender, recipients).toAllRecipientsOrNone();
        return "8BITMIME".equalsIgnoreCase(transaction.mailParameters().get("body")) ? envelope.withBody(Envelope.Body.EIGHT_BIT_MIME)
                : envelope;
    }

    /** What qpsmtpd's XCLIENT sends (NAME, ADDR, PORT, HELO, PROTO), and LOGIN for a client that authenticated. */
    static Map<String, String> xclientAttributes(Session session) {
        Map<String, String> attributes = new LinkedHashMap<>();
        String name = session.remoteHost();
        attributes.put("NAME", name == null || name.startsWith("[") ? "[UNAVAILABLE]" : name);
        attributes.put("ADDR", session.remoteAddress().getAddress().getHostAddress());
        attributes.put("PORT", Integer.toString(session.remoteAddress().getPort()));
        attributes.put("HELO", session.heloHost().orElse("[UNAVAILABLE]"));
        session.heloHost().ifPresent(greeted -> attributes.put("PROTO", session.extended() ? "ESMTP" : "SMTP"));
        session.authenticatedUser().ifPresent(user -> attributes.put("LOGIN", user));
        return attributes;
    }
}
