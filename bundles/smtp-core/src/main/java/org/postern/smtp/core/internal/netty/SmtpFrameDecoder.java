package org.postern.smtp.core.internal.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.postern.smtp.core.internal.protocol.SmtpLine;

/**
 * Splits the byte stream into {@link SmtpLine}s at LF, telling CRLF from a bare LF and noting bare CRs, so
 * that the session can enforce that only CRLF.CRLF ends DATA. A line longer than the limit is dropped up to
 * its end and reported as too long, without ever buffering more than the limit.
 */
final class SmtpFrameDecoder extends ByteToMessageDecoder {
    private static final SmtpLine TOO_LONG = new SmtpLine(new byte[0], true, false, true);

    private final int maxLineLength;
    private boolean discarding;

    SmtpFrameDecoder(int maxLineLength) {
        this.maxLineLength = maxLineLength;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
            if (discarding) {
                if (lf < 0) {
                    in.skipBytes(in.readableBytes());
                    return;
                }
                in.readerIndex(lf + 1);
                discarding = false;
                out.add(TOO_LONG);
                continue;
            }
            if (lf < 0) {
                if (in.readableBytes() > maxLineLength + 1) {
                    discarding = true;
                    in.skipBytes(in.readableBytes());
                }
                return;
            }
            int length = lf - in.readerIndex();
            if (length > maxLineLength + 1) {
                in.readerIndex(lf + 1);
                out.add(TOO_LONG);
                continue;
            }
            boolean crlf = length > 0 && in.getByte(lf - 1) == '\r';
            byte[] bytes = new byte[crlf ? length - 1 : length];
            in.readBytes(bytes);
            in.skipBytes(crlf ? 2 : 1);
            out.add(new SmtpLine(bytes, crlf, containsCr(bytes), false));
        }
    }

    /** Drops bytes received but not yet framed (a partial line), and any too-long line being skipped. */
    void discardBuffered() {
        discarding = false;
        if (internalBuffer().isReadable()) {
            internalBuffer().skipBytes(internalBuffer().readableBytes());
        }
    }

    private static boolean containsCr(byte[] bytes) {
        for (byte b : bytes) {
            if (b == '\r') {
                return true;
            }
        }
        return false;
    }
}
