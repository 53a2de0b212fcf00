package org.postern.smtp.client.internal;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import org.postern.smtp.client.ClientSettings;
import org.postern.smtp.client.Delivery;
import org.postern.smtp.client.Delivery.RecipientResult;
import org.postern.smtp.client.Delivery.Stage;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.client.Reply;

/**
 * One message over one set-up connection: XCLIENT if asked, MAIL and RCPT (and DATA, unless every recipient must
 * be accepted first) pipelined when the server offers PIPELINING, the message in dot-stuffed chunks read on the
 * blocking executor as the connection takes them, the caller's commit, the final dot and its reply (LMTP: one per
 * accepted recipient). Always completes with a {@link Delivery}, never exceptionally.
 */
final class Transfer {
    private static final int CHUNK = 64 * 1024;
    private static final byte[] FINAL_DOT = {'.', '\r', '\n'};
    /** XCLIENT lines are kept under 512 octets, as qpsmtpd and Postfix's own client do. */
    private static final int XCLIENT_LINE = 500;

    private final Connection connection;
    private final Connector connector;
    private final Destination destination;
    private final Envelope envelope;
    private final MessageSource message;
    private final BooleanSupplier commit;
    private final boolean eightBit;
    private final ClientSettings settings;
    private final Executor blocking;
    private volatile Stage stage = Stage.MAIL;
    /** A reused connection that turned out to be dead before the server answered anything: worth one more try. */
    private volatile boolean stale;

    Transfer(Connection connection, Connector connector, Envelope envelope, MessageSource message, BooleanSupplier commit,
            boolean eightBit, ClientSettings settings, Executor blocking) {
        this.connection = connection;
        this.connector = connector;
        this.destination = connection.destination;
        this.envelope = envelope;
        this.message = message;
        this.commit = commit;
        this.eightBit = eightBit;
        this.settings = settings;
        this.blocking = blocking;
    }

    /** Whether the connection was found dead before it carried any of this message (so it may be tried again). */
    boolean stale() {
        return stale;
    }

    CompletableFuture<Delivery> run() {
        CompletableFuture<Delivery> flow = envelope.xclient().isEmpty() ? mailAndRecipients() : xclient().thenCompose(refused ->
                refused == null ? mailAndRecipients() : CompletableFuture.completedFuture(everyone(Stage.XCLIENT, refused)));
        return flow.handle((delivery, error) -> delivery != null ? delivery : failed(error));
    }

    /** XCLIENT with the attributes the server names (null when it took them), then EHLO again as it asks. */
    private CompletableFuture<Reply> xclient() {
        stage = Stage.XCLIENT;
        // the connection now speaks for this message's client: it carries no other message
        connection.reusable = false;
        Set<String> wanted = connection.extensions.words("XCLIENT");
        if (!connection.extensions.has("XCLIENT")) {
            return CompletableFuture.completedFuture(Reply.of(451, "4.3.5", destination.address() + " does not offer XCLIENT"));
        }
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder("XCLIENT");
        for (Map.Entry<String, String> attribute : new TreeMap<>(envelope.xclient()).entrySet()) {
            String name = attribute.getKey().toUpperCase(Locale.ROOT);
            if (!wanted.contains(name)) {
                continue;
            }
            String item = " " + name + "=" + xtext(attribute.getValue());
            if (line.length() + item.length() > XCLIENT_LINE && line.length() > "XCLIENT".length()) {
                lines.add(line.toString());
                line = new StringBuilder("XCLIENT");
            }
            line.append(item);
        }
        if (line.length() > "XCLIENT".length()) {
            lines.add(line.toString());
        }
        CompletableFuture<Reply> refused = CompletableFuture.completedFuture(null);
        for (String command : lines) {
            refused = refused.thenCompose(earlier -> earlier != null ? CompletableFuture.completedFuture(earlier)
                    : connection.command(command, settings.commandTimeout()).thenApply(reply -> reply.isPositive() ? null : reply));
        }
        return refused.thenCompose(earlier -> earlier != null || lines.isEmpty() ? CompletableFuture.completedFuture(earlier)
                : connector.hello(connection, heloAfterXclient()).thenApply(helloAgain -> null));
    }

    /**
     * The name for EHLO after XCLIENT: the HELO attribute's, as qpsmtpd sends it (Postfix takes the EHLO name as the
     * client's), unless it is missing or no name at all.
     */
    private String heloAfterXclient() {
        String helo = envelope.xclient().getOrDefault("HELO", "");
        return helo.matches("[\\x21-\\x7e]+") && !helo.equals("[UNAVAILABLE]") ? helo : destination.heloName();
    }

    /** RFC 3461's xtext: printable ASCII but '+' and '=' as is, all else as {@code +XX}. */
    static String xtext(String value) {
        StringBuilder text = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c > 32 && c < 127 && c != '+' && c != '=') {
                text.append((char) c);
            } else {
                text.append('+').append(String.format("%02X", c));
            }
        }
        return text.toString();
    }

    private CompletableFuture<Delivery> mailAndRecipients() {
        stage = Stage.MAIL;
        Extensions extensions = connection.extensions;
        long limit = extensions.sizeLimit();
        if (limit > 0 && message.size() > limit) {
            return CompletableFuture.completedFuture(everyone(Stage.MAIL, Reply.of(552, "5.3.4",
                    "Message size " + message.size() + " exceeds the limit of " + destination.address() + " (" + limit + ")")));
        }
        if (eightBit && !extensions.has("8BITMIME")) {
            return CompletableFuture.completedFuture(everyone(Stage.MAIL, Reply.of(554, "5.6.3",
                    "The message has 8-bit content and " + destination.address() + " does not offer 8BITMIME")));
        }
        List<String> lines = new ArrayList<>();
        lines.add("MAIL FROM:<" + envelope.sender() + ">" + (extensions.has("SIZE") ? " SIZE=" + message.size() : "")
                + (eightBit ? " BODY=8BITMIME" : ""));
        envelope.recipients().forEach(recipient -> lines.add("RCPT TO:<" + recipient + ">"));
        boolean pipelining = extensions.has("PIPELINING");
        boolean dataAhead = pipelining && !envelope.allRecipients();
        if (dataAhead) {
            lines.add("DATA");
        }
        CompletableFuture<List<Reply>> replies = pipelining ? allOf(connection.pipeline(lines, settings.commandTimeout())) : oneByOne(lines);
        return replies.thenCompose(all -> afterRecipients(all, dataAhead));
    }

    /** Without PIPELINING: each command after the last one's reply, none after a refused MAIL. */
    private CompletableFuture<List<Reply>> oneByOne(List<String> lines) {
        CompletableFuture<List<Reply>> replies = CompletableFuture.completedFuture(new ArrayList<>());
        for (String line : lines) {
            replies = replies.thenCompose(so -> !so.isEmpty() && !so.get(0).isPositive() ? CompletableFuture.completedFuture(so)
                    : connection.command(line, settings.commandTimeout()).thenApply(reply -> {
                        so.add(reply);
                        return so;
                    }));
        }
        return replies;
    }

    private CompletableFuture<Delivery> afterRecipients(List<Reply> replies, boolean dataAhead) {
        int count = envelope.recipients().size();
        Reply mail = replies.get(0);
        Reply data = dataAhead ? replies.get(count + 1) : null;
        if (data != null && data.code() == 354 && (!mail.isPositive() || replies.subList(1, count + 1).stream().noneMatch(Reply::isPositive))) {
            // the server wants a message for nobody: only closing the connection ends that cleanly
            connection.abort(new ProtocolException("354 to DATA without a recipient"));
        }
        if (!mail.isPositive()) {
            return CompletableFuture.completedFuture(everyone(Stage.MAIL, mail));
        }
        stage = Stage.RCPT;
        List<Reply> rcpt = replies.subList(1, count + 1);
        List<Integer> accepted = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            if (rcpt.get(i).isPositive()) {
                accepted.add(i);
            }
        }
        if (accepted.size() < count && (accepted.isEmpty() || envelope.allRecipients())) {
            Reply refusal = decisive(rcpt);
            return CompletableFuture.completedFuture(delivery(Stage.RCPT, refusal, i -> new RecipientResult(envelope.recipients().get(i), rcpt.get(i), false)));
        }
        stage = Stage.DATA;
        CompletableFuture<Reply> dataReply = data != null ? CompletableFuture.completedFuture(data) : connection.command("DATA", settings.commandTimeout());
        return dataReply.thenCompose(reply -> {
            if (reply.code() != 354) {
                return CompletableFuture.completedFuture(delivery(Stage.DATA, reply,
                        i -> new RecipientResult(envelope.recipients().get(i), rcpt.get(i).isPositive() ? reply : rcpt.get(i), false)));
            }
            return sendMessage(rcpt, accepted);
        });
    }

    private CompletableFuture<Delivery> sendMessage(List<Reply> rcpt, List<Integer> accepted) {
        CompletableFuture<ByteBuf> sent = new CompletableFuture<>();
        onBlocking(() -> {
            try {
                pump(message.open(), new DotStuffer(), new byte[CHUNK], sent);
            } catch (IOException | RuntimeException e) {
                sent.completeExceptionally(new Unreadable(e));
            }
        }, sent);
        return sent.thenCompose(end -> {
            if (!committed(end)) {
                connection.abort(new Connection.Closed("the transfer was abandoned before the final dot"));
                return CompletableFuture.completedFuture(delivery(Stage.DATA,
                        Reply.of(451, "4.3.0", "Transfer abandoned before the final dot: the caller did not commit"),
                        i -> new RecipientResult(envelope.recipients().get(i), rcpt.get(i), false)));
            }
            stage = Stage.END_OF_DATA;
            end.writeBytes(FINAL_DOT);
            boolean lmtp = destination.protocol() == Destination.Protocol.LMTP;
            List<CompletableFuture<Reply>> replies = connection.endData(end, lmtp ? accepted.size() : 1, settings.dataEndTimeout());
            return allSettled(replies).thenApply(settled -> afterMessage(rcpt, accepted, replies, lmtp));
        });
    }

    /** Asks the caller to commit; the end of the message is released unless it is to be sent. */
    private boolean committed(ByteBuf end) {
        boolean committed = false;
        try {
            committed = commit.getAsBoolean();
            return committed;
        } finally {
            if (!committed) {
                end.release();
            }
        }
    }

    /**
     * Reads a chunk, stuffs it and writes it; the next chunk once the connection takes more. Completes {@code sent}
     * with the message's last octets (its CRLF, if it lacked one), to go with the final dot.
     */
    private void pump(InputStream in, DotStuffer stuffer, byte[] chunk, CompletableFuture<ByteBuf> sent) {
        try {
            int read = in.read(chunk);
            if (read < 0) {
                in.close();
                ByteBuf end = connection.channel.alloc().buffer(5);
                stuffer.finish(end);
                sent.complete(end);
                return;
            }
            ByteBuf out = connection.channel.alloc().buffer(DotStuffer.maxOutput(read));
            stuffer.stuff(chunk, read, out);
            connection.write(out, settings.dataBlockTimeout()).whenComplete((more, error) -> {
                if (error != null) {
                    closeQuietly(in);
                    sent.completeExceptionally(error);
                } else {
                    onBlocking(() -> pump(in, stuffer, chunk, sent), sent);
                }
            });
        } catch (IOException | RuntimeException e) {
            closeQuietly(in);
            sent.completeExceptionally(new Unreadable(e));
        }
    }

    private Delivery afterMessage(List<Reply> rcpt, List<Integer> accepted, List<CompletableFuture<Reply>> replies, boolean lmtp) {
        List<RecipientResult> results = new ArrayList<>();
        for (int i = 0; i < rcpt.size(); i++) {
            results.add(new RecipientResult(envelope.recipients().get(i), rcpt.get(i), false));
        }
        for (int k = 0; k < accepted.size(); k++) {
            CompletableFuture<Reply> reply = replies.get(lmtp ? k : 0);
            // an LMTP reply that came before the connection failed still tells that recipient's fate
            Reply settled = reply.isCompletedExceptionally() ? Failures.reply(reply.handle((r, e) -> e).join(), destination) : reply.join();
            int i = accepted.get(k);
            results.set(i, new RecipientResult(envelope.recipients().get(i), settled, settled.isPositive()));
        }
        if (replies.stream().anyMatch(CompletableFuture::isCompletedExceptionally)) {
            connection.reusable = false;
        }
        List<Reply> undelivered = results.stream().filter(r -> !r.delivered()).map(RecipientResult::reply).toList();
        Reply decisive = undelivered.isEmpty() ? results.get(accepted.get(0)).reply() : decisive(undelivered);
        return new Delivery(Stage.END_OF_DATA, decisive, results);
    }

    /** The reply behind a failure: the first temporary one (those recipients may still get the message), else the first failure. */
    private static Reply decisive(List<Reply> replies) {
        return replies.stream().filter(Reply::isTransientFailure).findFirst()
                .or(() -> replies.stream().filter(reply -> !reply.isPositive()).findFirst()).orElse(replies.get(0));
    }

    /** What an error in the flow means: the client's own reply at the stage it happened, for every recipient. */
    private Delivery failed(Throwable error) {
        Throwable cause = Failures.unwrap(error);
        connection.abort(cause);
        if (cause instanceof Unreadable unreadable) {
            return everyone(stage, Reply.of(451, "4.3.0", "Cannot read the message: " + unreadable.getCause()));
        }
        stale = connection.reused && stage == Stage.MAIL && cause instanceof Connection.Closed;
        return everyone(stage, Failures.reply(cause, destination));
    }

    private Delivery everyone(Stage at, Reply reply) {
        return delivery(at, reply, i -> new RecipientResult(envelope.recipients().get(i), reply, false));
    }

    private Delivery delivery(Stage at, Reply reply, IntFunction<RecipientResult> result) {
        List<RecipientResult> results = new ArrayList<>();
        for (int i = 0; i < envelope.recipients().size(); i++) {
            results.add(result.apply(i));
        }
        return new Delivery(at, reply, results);
    }

    private void onBlocking(Runnable task, CompletableFuture<?> failing) {
        try {
            blocking.execute(task);
        } catch (RejectedExecutionException e) {
            failing.completeExceptionally(new Unreadable(e));
        }
    }

    private static CompletableFuture<List<Reply>> allOf(List<CompletableFuture<Reply>> replies) {
        return CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new))
                .thenApply(done -> replies.stream().map(CompletableFuture::join).toList());
    }

    /** Completes when every one has, however. */
    private static CompletableFuture<Void> allSettled(List<CompletableFuture<Reply>> replies) {
        return CompletableFuture.allOf(replies.stream().map(reply -> reply.handle((r, e) -> null)).toArray(CompletableFuture[]::new));
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the message was read for sending only
        }
    }

    /** The message could not be read (or its reading could not be started): the caller's side failed. */
    private static final class Unreadable extends IOException {
        private static final long serialVersionUID = 1L;

        Unreadable(Throwable cause) {
            super(cause.toString(), cause);
        }
    }
}
