package org.postern.smtp.core.internal.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.postern.smtp.core.internal.protocol.SmtpLine;

/**
 * Splits the byte stream into {@link SmtpLine}s at LF, telling CRLF from a bare LF and noting bare CRs, so
 * that the session can enforce that only CRLF.CRLF ends DATA. A line longer than the limit is dropped up to
 * its end and reported as too long, without ever buffering more than the limit. While paused (the session
 * holds as many unanswered lines as it may), received bytes stay unsplit until {@link #resume}.
 */
final class SmtpFrameDecoder extends ByteToMessageDecoder {
    private static final SmtpLine TOO_LONG = new SmtpLine(new byte[0], true, false, true);

    private final int maxLineLength;
    private boolean discarding;
    private boolean paused;
    private ChannelHandlerContext ctx;

    SmtpFrameDecoder(int maxLineLength) {
        this.maxLineLength = maxLineLength;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
    }

    /** Stops splitting lines: the ones split so far are all the reader may hold. */
    void pause() {
        paused = true;
    }

    /** Splits, and passes on, the lines received while paused; call on the channel's event loop. */
    void resume() {
        if (!paused) {
            return;
        }
        paused = false;
        if (internalBuffer().isReadable()) {
            try {
                channelRead(ctx, Unpooled.EMPTY_BUFFER);
            } catch (Exception e) {
                ctx.fireExceptionCaught(e);
            }
        }
    }

    /**
     * Splits off at most one line per call: the decoder's loop hands each line on before the next is split,
     * so a pause from the reader takes effect at once.
     */
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (paused || !in.isReadable()) {
            return;
        }
        int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
        if (discarding) {
            if (lf < 0) {
                in.skipBytes(in.readableBytes());
                return;
            }
            in.readerIndex(lf + 1);
            discarding = false;
            out.add(TOO_LONG);
            return;
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
            return;
        }
        boolean crlf = length > 0 && in.getByte(lf - 1) == '\r';
        byte[] bytes = new byte[crlf ? length - 1 : length];
        in.readBytes(bytes);
        in.skipBytes(crlf ? 2 : 1);
        out.add(SmtpLine.framed(bytes, crlf));
    }

    /** True when bytes of a line not yet complete are held. */
    boolean holdsPartialLine() {
        return internalBuffer().isReadable();
    }

    /** Drops bytes received but not yet framed (a partial line), and any too-long line being skipped. */
    void discardBuffered() {
        discarding = false;
        if (internalBuffer().isReadable()) {
            internalBuffer().skipBytes(internalBuffer().readableBytes());
        }
    }
}
