package org.postern.smtp.plugin.virus.clamdscan.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * What is sent to clamd for one message, produced piece by piece as the connection can take it (Netty's
 * ChunkedWriteHandler asks for the next piece only while the channel is writable, so no more than a chunk or two of
 * the message is in memory): a session (IDSESSION) with two commands, VERSION (reply 1) and INSTREAM (reply 2), the
 * message as INSTREAM chunks (each preceded by its length in four octets, network order), a chunk of length 0 that
 * ends the stream, and END, after which clamd sends what is left of the replies and closes the connection.
 */
final class InstreamRequest implements ChunkedInput<ByteBuf> {
    /** The prefix of clamd's reply to VERSION, and to INSTREAM, in the session. */
    static final String VERSION_REPLY = "1: ";
    static final String SCAN_REPLY = "2: ";
    private static final byte[] START = "zIDSESSION\0zVERSION\0zINSTREAM\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FINISH = "\0\0\0\0zEND\0".getBytes(StandardCharsets.US_ASCII);

    private final InputStream message;
    private final int chunkSize;
    private boolean started;
    private boolean finished;
    private long sent;

    InstreamRequest(InputStream message, int chunkSize) {
        this.message = message;
        this.chunkSize = chunkSize;
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) throws IOException {
        if (finished) {
            return null;
        }
        if (!started) {
            started = true;
            return Unpooled.wrappedBuffer(START);
        }
        ByteBuf chunk = allocator.buffer(4 + chunkSize);
        try {
            chunk.writeInt(0);
            int read;
            do {
                read = chunk.writeBytes(message, chunkSize);
            } while (read == 0);
            if (read < 0) {
                chunk.release();
                finished = true;
                return Unpooled.wrappedBuffer(FINISH);
            }
            chunk.setInt(0, read);
            sent += read;
            return chunk;
        } catch (IOException | RuntimeException e) {
            chunk.release();
            throw e;
        }
    }

    @Override
    @Deprecated
    public ByteBuf readChunk(ChannelHandlerContext ctx) throws IOException {
        return readChunk(ctx.alloc());
    }

    @Override
    public boolean isEndOfInput() {
        return finished;
    }

    /** Closes the message; more than once does no harm (the writer closes it at its end, the client when it gives up). */
    @Override
    public void close() throws IOException {
        message.close();
    }

    @Override
    public long length() {
        return -1;
    }

    /** Octets of the message sent so far. */
    @Override
    public long progress() {
        return sent;
    }
}
