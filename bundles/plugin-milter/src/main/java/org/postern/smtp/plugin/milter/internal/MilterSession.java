package org.postern.smtp.plugin.milter.internal;

import static java.util.concurrent.CompletableFuture.completedFuture;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.plugin.milter.internal.MilterConnection.Answer;

/**
 * The milter's side of one SMTP session: its connection (opened at connect, reopened at the next MAIL after a
 * failure, with CONNECT and HELO sent again), the steps the milter asked to skip or not to answer, and where the
 * milter has had its say (ACCEPT for the session, or ACCEPT, DISCARD or a refusal for the message). Each method
 * sends one SMTP stage and completes with the milter's answer, {@link Answer#CONTINUED} for a step it skips.
 * Calls come one after another, as the SMTP commands do.
 */
final class MilterSession {
    private final MilterClient client;
    private MilterConnection connection;
    private MilterReply.Negotiation negotiation;
    private String clientName;
    private InetSocketAddress clientAddress;
    private Map<String, String> connectMacros = Map.of();
    private String helo;
    private Map<String, String> heloMacros = Map.of();
    private boolean sessionSettled;
    private boolean messageSettled;
    private boolean inMessage;

    MilterSession(MilterClient client) {
        this.client = client;
    }

    /** True when the milter has had its say on the session (ACCEPT at connect or HELO): nothing more is sent. */
    boolean sessionSettled() {
        return sessionSettled;
    }

    /** True when the milter has had its say on this message, or on the session. */
    boolean messageSettled() {
        return sessionSettled || messageSettled;
    }

    CompletableFuture<Answer> connect(String hostName, InetSocketAddress address, Map<String, String> macros) {
        clientName = hostName;
        clientAddress = address;
        connectMacros = macros;
        return open().thenCompose(x -> sendConnect()).thenApply(this::settleSession);
    }

    CompletableFuture<Answer> helo(String host, Map<String, String> macros) {
        helo = host;
        heloMacros = macros;
        if (!connected()) {
            return completedFuture(Answer.CONTINUED);
        }
        return sendHelo().thenApply(this::settleSession);
    }

    /** MAIL starts a message: the connection is reopened first when it failed, replaying CONNECT and HELO. */
    CompletableFuture<Answer> mail(String path, Map<String, String> parameters, Map<String, String> macros) {
        messageSettled = false;
        CompletableFuture<Answer> ready = connected() ? completedFuture(Answer.CONTINUED)
                : open().thenCompose(x -> sendConnect()).thenCompose(answer -> continues(answer) && helo != null ? sendHelo() : completedFuture(answer));
        return ready.thenCompose(answer -> {
            if (!continues(answer)) {
                return completedFuture(settleMessage(answer));
            }
            inMessage = true;
            return step(MilterProtocol.NOMAIL, MilterProtocol.NR_MAIL, MilterProtocol.STAGE_MAIL, MilterProtocol.MAIL, macros,
                    MilterProtocol.envelope(MilterProtocol.MAIL, path, parameters)).thenApply(this::settleMessage);
        });
    }

    /** A REJECT or TEMPFAIL here refuses this recipient only, as in Sendmail; the message goes on. */
    CompletableFuture<Answer> rcpt(String path, Map<String, String> parameters, Map<String, String> macros) {
        return step(MilterProtocol.NORCPT, MilterProtocol.NR_RCPT, MilterProtocol.STAGE_RCPT, MilterProtocol.RCPT, macros,
                MilterProtocol.envelope(MilterProtocol.RCPT, path, parameters)).thenApply(answer -> {
                    char code = answer.reply().code();
                    return code == MilterReply.REJECT || code == MilterReply.TEMPFAIL || code == MilterReply.REPLYCODE ? answer : settleMessage(answer);
                });
    }

    CompletableFuture<Answer> data(Map<String, String> macros) {
        return step(MilterProtocol.NODATA, MilterProtocol.NR_DATA, MilterProtocol.STAGE_DATA, MilterProtocol.DATA, macros,
                MilterProtocol.command(MilterProtocol.DATA)).thenApply(this::settleMessage);
    }

    /**
     * The message: each header field, the end of the header, the body in chunks of at most 64 KiB read from
     * {@code body} one at a time (the next once the milter answered the last, or once it was written when the
     * milter asked for no answers), then the end of the body, whose answer carries the milter's modifications.
     * A SKIP to a body chunk ends the body early. {@code body} is closed at the end.
     */
    CompletableFuture<Answer> message(List<HeaderField> header, InputStream body, Map<String, String> macros) {
        if (!connected()) {
            closeQuietly(body);
            return CompletableFuture.failedFuture(new IOException("no connection to the milter"));
        }
        return headers(header, 0, macros)
                .thenCompose(answer -> continues(answer) ? step(MilterProtocol.NOEOH, MilterProtocol.NR_EOH, MilterProtocol.STAGE_EOH,
                        MilterProtocol.EOH, macros, MilterProtocol.command(MilterProtocol.EOH)) : completedFuture(answer))
                .thenCompose(answer -> continues(answer) ? body(body, new byte[MilterProtocol.MAX_BODY_CHUNK]) : completedFuture(answer))
                .thenCompose(answer -> continues(answer) || answer.reply().code() == MilterReply.SKIP
                        ? step(0, 0, MilterProtocol.STAGE_EOM, MilterProtocol.BODYEOB, macros, MilterProtocol.command(MilterProtocol.BODYEOB))
                                .thenApply(end -> {
                                    inMessage = false;
                                    return end;
                                })
                        : completedFuture(answer))
                .thenApply(this::settleMessage)
                .whenComplete((answer, error) -> closeQuietly(body));
    }

    /** RSET, a new HELO, or the end of a message the milter did not see to its end: SMFIC_ABORT, which gets no reply. */
    void abort() {
        if (inMessage && connected()) {
            connection.tell(MilterProtocol.command(MilterProtocol.ABORT));
        }
        inMessage = false;
        messageSettled = false;
    }

    /** The end of the SMTP session: SMFIC_QUIT, and the connection closes. */
    void quit() {
        if (connection != null) {
            connection.quit();
        }
    }

    /**
     * After a failure: the connection is closed and reopened at the next MAIL. {@code passMessage}: the rest of this
     * message goes without the milter (milter_default_action accept), rather than failing at each stage again.
     */
    void failed(boolean passMessage) {
        if (connection != null) {
            connection.close();
        }
        connection = null;
        inMessage = false;
        messageSettled |= passMessage;
    }

    /** The actions the milter declared (SMFIF_*), what it may change at the end of the message. */
    int actions() {
        return negotiation == null ? 0 : negotiation.actions();
    }

    private boolean connected() {
        return connection != null && connection.open();
    }

    private CompletableFuture<Void> open() {
        return client.open().thenAccept(opened -> {
            connection = opened.connection();
            negotiation = opened.negotiation();
        });
    }

    private CompletableFuture<Answer> sendConnect() {
        return step(MilterProtocol.NOCONNECT, MilterProtocol.NR_CONN, MilterProtocol.STAGE_CONNECT, MilterProtocol.CONNECT, connectMacros,
                MilterProtocol.connect(clientName, clientAddress));
    }

    private CompletableFuture<Answer> sendHelo() {
        return step(MilterProtocol.NOHELO, MilterProtocol.NR_HELO, MilterProtocol.STAGE_HELO, MilterProtocol.HELO, heloMacros,
                MilterProtocol.helo(helo));
    }

    private CompletableFuture<Answer> headers(List<HeaderField> header, int next, Map<String, String> macros) {
        if (next == header.size() || (negotiation.protocol() & MilterProtocol.NOHDRS) != 0) {
            return completedFuture(Answer.CONTINUED);
        }
        HeaderField field = header.get(next);
        return step(0, MilterProtocol.NR_HDR, -1, MilterProtocol.HEADER, Map.of(), MilterProtocol.header(field.name(), field.value()))
                .thenCompose(answer -> continues(answer) ? headers(header, next + 1, macros) : completedFuture(answer));
    }

    private CompletableFuture<Answer> body(InputStream body, byte[] chunk) {
        if ((negotiation.protocol() & MilterProtocol.NOBODY) != 0) {
            return completedFuture(Answer.CONTINUED);
        }
        int length;
        try {
            length = body.readNBytes(chunk, 0, chunk.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (length == 0) {
            return completedFuture(Answer.CONTINUED);
        }
        // the next chunk is read on the event loop, not deeper in this stack, however many chunks there are
        return step(0, MilterProtocol.NR_BODY, -1, MilterProtocol.BODY, Map.of(), MilterProtocol.body(chunk, length))
                .thenComposeAsync(answer -> continues(answer) ? body(body, chunk) : completedFuture(answer), connection.executor());
    }

    /** Sends one command with its macros: not at all when the milter asked to skip it, without waiting when it asked for no reply. */
    private CompletableFuture<Answer> step(int skipFlag, int noReplyFlag, int stage, char command, Map<String, String> macros, ByteBuf packet) {
        if (!connected()) {
            packet.release();
            return CompletableFuture.failedFuture(new IOException("no connection to the milter"));
        }
        if ((negotiation.protocol() & skipFlag) != 0) {
            packet.release();
            return completedFuture(Answer.CONTINUED);
        }
        ByteBuf[] packets = macros.isEmpty() ? new ByteBuf[] {packet} : new ByteBuf[] {macros(stage, command, macros), packet};
        if ((negotiation.protocol() & noReplyFlag) != 0) {
            return connection.tell(packets).thenApply(x -> Answer.CONTINUED);
        }
        return connection.ask(packets);
    }

    /** SMFIC_MACRO with the macros of this stage the milter asked for (SMFIR_SETSYMLIST), or all of them when it did not say. */
    private ByteBuf macros(int stage, char command, Map<String, String> macros) {
        Set<String> wanted = negotiation.macrosAt(stage);
        Map<String, String> sent = new LinkedHashMap<>();
        macros.forEach((name, value) -> {
            if (wanted == null || wanted.contains(name) || wanted.contains(name.replaceAll("[{}]", ""))
                    || wanted.contains("{" + name + "}")) {
                sent.put(name, value);
            }
        });
        return MilterProtocol.macros(command, sent);
    }

    private static boolean continues(Answer answer) {
        return answer.reply().code() == MilterReply.CONTINUE;
    }

    private Answer settleSession(Answer answer) {
        if (answer.reply().code() == MilterReply.ACCEPT) {
            sessionSettled = true;
        }
        return answer;
    }

    private Answer settleMessage(Answer answer) {
        if (!continues(answer)) {
            messageSettled = true;
        }
        return answer;
    }

    private static void closeQuietly(InputStream body) {
        try {
            body.close();
        } catch (IOException ignored) {
            // the spool is only read
        }
    }
}
