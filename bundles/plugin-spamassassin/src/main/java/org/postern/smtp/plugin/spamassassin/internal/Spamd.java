package org.postern.smtp.plugin.spamassassin.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.postern.smtp.api.BlockingCalls;

/**
 * A client of spamd on Netty: one connection per message, over TCP or a Unix domain socket (Netty 4.2's NIO transport
 * connects Java 16's UnixDomainSocketAddress), a HEADERS request without a Content-length, so the message is streamed
 * as it is read and the request ends with a half-close; spamd then answers and closes the connection.
 *
 * <p>The message is read from the spool in chunks on two reader threads of the client's own, never on the event loop,
 * and the next chunk is read only once the one before has gone into the socket: a scan holds one chunk, and a spamd
 * that reads slowly slows the reading. The answer is collected up to a bound and parsed when spamd closes.
 */
final class Spamd implements AutoCloseable {
    static final int CHUNK_SIZE = 64 * 1024;
    /** What SpamAssassin adds to the header it sends back: its X-Spam fields, a report of a few kilobytes at most. */
    static final int ANSWER_MARGIN = 64 * 1024;

    /** The message turned out larger than the bound while it was sent: it is not scanned. */
    static final class TooLarge extends IOException {
        private static final long serialVersionUID = 1L;

        TooLarge(long limit) {
            super("the message is larger than " + limit + " octets");
        }
    }

    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final BlockingCalls reader = new BlockingCalls("spamassassin", 2, 1000);
    private final SocketAddress address;
    private final Bootstrap bootstrap;
    private final long timeoutMillis;

    /**
     * @param socket qpsmtpd's {@code spamd_socket}: a path (anything with a slash) for a Unix domain socket, else
     *     {@code host:port}, {@code [v6 address]:port} or a host alone (port 783); the host is looked up at each connection
     * @param connectTimeoutMillis how long connecting may take
     * @param timeoutMillis how long, once connected, sending the message and reading the whole answer may take
     */
    Spamd(String socket, int connectTimeoutMillis, long timeoutMillis) {
        this.address = address(socket);
        this.timeoutMillis = timeoutMillis;
        bootstrap = new Bootstrap().group(loop)
                .channel(address instanceof UnixDomainSocketAddress ? NioDomainSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis);
    }

    static SocketAddress address(String socket) {
        String where = socket.strip();
        if (where.contains("/")) {
            return UnixDomainSocketAddress.of(Path.of(where));
        }
        int colon = where.lastIndexOf(':');
        boolean portGiven = where.startsWith("[") ? where.lastIndexOf(']') == colon - 1 : colon >= 0 && where.indexOf(':') == colon;
        String host = portGiven ? where.substring(0, colon) : where;
        host = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (host.isEmpty()) {
            throw new IllegalArgumentException("no host in '" + socket + "'");
        }
        int port = portGiven ? Integer.parseInt(where.substring(colon + 1)) : 783;
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** Where spamd is, for log lines. */
    String where() {
        return address instanceof InetSocketAddress inet ? inet.getHostString() + ":" + inet.getPort() : address.toString();
    }

    /**
     * Has spamd check the message for {@code user}: {@code X-Envelope-From: <envelopeFrom>} (as qpsmtpd sends it,
     * for SpamAssassin's envelope sender), then the message, which is closed when the check ends, however it ends.
     * The stage fails with {@link TooLarge} once more than {@code maxOctets} of the message have been read, and with
     * another exception for every failure of spamd: not reachable, no connection within the connect timeout, not the
     * whole answer within the timeout, an error answer, an answer that is not spamd's protocol, or one larger than the
     * message's header allows ({@link #ANSWER_MARGIN} more than {@code maxOctets}).
     */
    CompletableFuture<SpamdAnswer> check(String user, String envelopeFrom, InputStream message, long maxOctets) {
        Exchange exchange = new Exchange(maxOctets + ANSWER_MARGIN);
        ChannelFuture connect = bootstrap.clone().handler(exchange).connect(address);
        Channel channel = connect.channel();
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                exchange.fail(done.cause());
                return;
            }
            ScheduledFuture<?> deadline = channel.eventLoop().schedule(() -> exchange.fail(new TimeoutException(
                    "spamd did not answer within " + timeoutMillis + " ms")), timeoutMillis, TimeUnit.MILLISECONDS);
            exchange.answer.whenComplete((answer, error) -> deadline.cancel(false));
            String request = "HEADERS SPAMC/1.5\r\nUser: " + user + "\r\n\r\nX-Envelope-From: " + envelopeFrom + "\r\n";
            channel.writeAndFlush(Unpooled.wrappedBuffer(request.getBytes(StandardCharsets.ISO_8859_1)))
                    .addListener(written -> new Upload(channel, message, maxOctets, exchange).sent(written.isSuccess(), written.cause()));
        });
        // the caller gets the answer once the connection and the message are closed
        return exchange.answer.whenComplete((answer, error) -> {
            channel.close();
            try {
                message.close();
            } catch (IOException ignored) {
                // the spool file was only read; failing to close it loses nothing
            }
        });
    }

    /**
     * Asks spamd {@code PING}, as {@code spamc -K} does, within {@code timeout} from this call: completes with its
     * {@code SPAMD/1.5 0 PONG} line, or fails when spamd cannot be reached, answers anything else, or is silent.
     */
    CompletableFuture<String> ping(Duration timeout) {
        Pong pong = new Pong();
        ChannelFuture connect = bootstrap.clone().handler(pong).connect(address);
        Channel channel = connect.channel();
        ScheduledFuture<?> deadline = channel.eventLoop().schedule(() -> pong.answer.completeExceptionally(new TimeoutException(
                "spamd did not answer PING within " + timeout.toMillis() + " ms")), timeout.toMillis(), TimeUnit.MILLISECONDS);
        connect.addListener(done -> {
            if (done.isSuccess()) {
                channel.writeAndFlush(Unpooled.copiedBuffer("PING SPAMC/1.5\r\n\r\n", StandardCharsets.US_ASCII));
            } else {
                pong.answer.completeExceptionally(done.cause());
            }
        });
        return pong.answer.whenComplete((line, error) -> {
            deadline.cancel(false);
            channel.close();
        });
    }

    /** Stops the event loop and the reader threads; the checks under way fail. */
    @Override
    public void close() {
        reader.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** The message, chunk by chunk: a chunk is read once the one before is written. */
    private final class Upload {
        private final Channel channel;
        private final InputStream message;
        private final long maxOctets;
        private final Exchange exchange;
        private long read;

        Upload(Channel channel, InputStream message, long maxOctets, Exchange exchange) {
            this.channel = channel;
            this.message = message;
            this.maxOctets = maxOctets;
            this.exchange = exchange;
        }

        /** After a write: reads and writes the next chunk, or ends the request at the end of the message. */
        void sent(boolean success, Throwable failure) {
            if (!success) {
                // spamd stops reading when it refuses the request; its answer says why, so keep reading that
                exchange.keep(failure);
                return;
            }
            if (exchange.answer.isDone()) {
                return;
            }
            reader.call(this::nextChunk).whenComplete((chunk, error) -> {
                if (error != null) {
                    exchange.fail(error);
                } else if (chunk == null) {
                    ((DuplexChannel) channel).shutdownOutput();
                } else {
                    channel.writeAndFlush(chunk).addListener(written -> sent(written.isSuccess(), written.cause()));
                }
            });
        }

        /** Runs on a reader thread: the next chunk, or null at the end of the message. */
        private ByteBuf nextChunk() throws IOException {
            byte[] chunk = new byte[CHUNK_SIZE];
            int length = message.readNBytes(chunk, 0, chunk.length);
            if (length == 0) {
                return null;
            }
            read += length;
            if (read > maxOctets) {
                throw new TooLarge(maxOctets);
            }
            return Unpooled.wrappedBuffer(chunk, 0, length);
        }
    }

    /** Waits for the first line of spamd's answer to PING. */
    private static final class Pong extends SimpleChannelInboundHandler<ByteBuf> {
        /** Longer than spamd's PONG line, or any error line it gives. */
        private static final int MAX_LINE = 1024;
        final CompletableFuture<String> answer = new CompletableFuture<>();
        private final StringBuilder received = new StringBuilder();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf chunk) {
            received.append(chunk.toString(StandardCharsets.ISO_8859_1));
            int end = received.indexOf("\n");
            if (end >= 0) {
                String line = received.substring(0, end).strip();
                if (line.matches("SPAMD/\\S+ 0 PONG")) {
                    answer.complete(line);
                } else {
                    answer.completeExceptionally(new IOException("spamd answered PING with: " + line));
                }
            } else if (received.length() > MAX_LINE) {
                answer.completeExceptionally(new IOException("spamd's answer to PING is not a line of spamd's protocol"));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            answer.completeExceptionally(new IOException("spamd closed the connection without answering PING"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            answer.completeExceptionally(cause);
            ctx.close();
        }
    }

    /** Collects spamd's answer until it closes the connection, up to a bound. */
    private static final class Exchange extends SimpleChannelInboundHandler<ByteBuf> {
        final CompletableFuture<SpamdAnswer> answer = new CompletableFuture<>();
        private final ByteBuf received = Unpooled.buffer();
        private final long maxAnswer;
        private Throwable failure;

        Exchange(long maxAnswer) {
            this.maxAnswer = maxAnswer;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf chunk) {
            if (answer.isDone()) {
                return;
            }
            if (received.readableBytes() + (long) chunk.readableBytes() > maxAnswer) {
                fail(new SpamdAnswer.Failure("spamd's answer is larger than " + maxAnswer + " octets"));
                return;
            }
            received.writeBytes(chunk);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            String text = received.toString(StandardCharsets.ISO_8859_1);
            received.release();
            if (answer.isDone()) {
                return;
            }
            if (text.isEmpty() && failure != null) {
                fail(failure);
                return;
            }
            try {
                answer.complete(SpamdAnswer.parse(text));
            } catch (SpamdAnswer.Failure notAnAnswer) {
                fail(notAnAnswer);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            keep(cause);
            ctx.close();
        }

        /** Remembers the first error, for when spamd closes the connection without an answer. */
        void keep(Throwable cause) {
            if (failure == null) {
                failure = cause;
            }
        }

        void fail(Throwable cause) {
            answer.completeExceptionally(cause);
        }
    }
}
