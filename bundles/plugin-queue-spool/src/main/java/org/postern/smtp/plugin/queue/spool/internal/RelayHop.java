package org.postern.smtp.plugin.queue.spool.internal;

import java.nio.file.Path;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.client.SmtpClient;

/** Every message to one server, a smarthost ({@code relayhost}) or an LMTP server: one transaction for all recipients. */
final class RelayHop implements NextHop {
    private final SmtpClient client;
    private final Destination destination;
    private final String remoteMta;

    RelayHop(SmtpClient client, Destination destination) {
        this.client = client;
        this.destination = destination;
        this.remoteMta = destination.socket() != null ? "x-unix; " + destination.socket() : "dns; " + destination.host();
    }

    @Override
    public String destinationOf(String recipient) {
        return destination.address();
    }

    @Override
    public CompletionStage<Attempt> deliver(String to, Envelope envelope, MessageSource message, String heloName, BooleanSupplier commit) {
        return client.send(destination.withHeloName(heloName), envelope, message, commit).thenApply(delivery -> Attempt.of(delivery, remoteMta));
    }

    /**
     * {@code host}, {@code host:port} or {@code [address]:port} (port 25 when none is given) as an SMTP destination;
     * for LMTP ({@code lmtp = true}), the same with port 24, or {@code unix:/path} or {@code /path} for a Unix socket.
     */
    static Destination parse(String server, boolean lmtp) {
        String trimmed = server.strip();
        if (lmtp && (trimmed.startsWith("unix:") || trimmed.startsWith("/"))) {
            return Destination.lmtp(Path.of(trimmed.startsWith("unix:") ? trimmed.substring("unix:".length()) : trimmed));
        }
        int colon = trimmed.lastIndexOf(':');
        boolean bracketed = trimmed.startsWith("[");
        boolean hasPort = bracketed ? colon > trimmed.indexOf(']') : colon >= 0 && trimmed.indexOf(':') == colon;
        String host = (hasPort ? trimmed.substring(0, colon) : trimmed).replaceAll("^\\[(.*)]$", "$1");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("no host in '" + server + "'");
        }
        int port = hasPort ? Integer.parseInt(trimmed.substring(colon + 1)) : lmtp ? 24 : 25;
        return lmtp ? Destination.lmtp(host, port) : Destination.smtp(host, port);
    }
}
