package org.postern.smtp.plugin.spamassassin.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.DataPostHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Scores each message with SpamAssassin's spamd, as qpsmtpd's {@code spamassassin}: the message goes to spamd
 * over a Netty connection and the hook answers {@link HookResult#later} when spamd has answered, so no thread
 * waits for it. It adds X-Spam-Flag and X-Spam-Status headers, and refuses the message when its score reaches
 * {@code reject.score}. When spamd cannot be reached the message passes, and that is logged.
 */
@Component(service = DataPostHook.class, configurationPid = SpamAssassin.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = SpamAssassin.Config.class)
@PosternPlugin("spamassassin")
@PosternHook("data_post")
@HookOrder(500)
public final class SpamAssassin implements DataPostHook {
    static final String PID = "org.postern.smtp.plugin.spamassassin";

    @ObjectClassDefinition(name = "Postern plugin: spamassassin")
    public @interface Config {
        @AttributeDefinition(description = "spamd's address, host:port")
        String spamd() default "127.0.0.1:783";

        @AttributeDefinition(description = "Refuse messages scoring at least this much; 0 only adds headers")
        double reject_score() default 0;

        @AttributeDefinition(description = "Messages larger than this many octets are not scanned (spamc's default)")
        int max_size() default 512_000;

        @AttributeDefinition(description = "Milliseconds spamd may take; keep it under the core's hook.timeout")
        int timeout_ms() default 20_000;

        @AttributeDefinition(description = "User name spamd scores for (its per-user settings)")
        String user() default "postern";
    }

    private final String host;
    private final int port;
    private final double rejectScore;
    private final int maxSize;
    private final int timeoutMillis;
    private final String user;
    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @Activate
    public SpamAssassin(Config config) {
        String address = config.spamd().strip();
        int colon = address.lastIndexOf(':');
        host = colon > 0 ? address.substring(0, colon) : address;
        port = colon > 0 ? Integer.parseInt(address.substring(colon + 1)) : 783;
        rejectScore = config.reject_score();
        maxSize = config.max_size();
        timeoutMillis = config.timeout_ms();
        user = config.user();
    }

    @Deactivate
    void deactivate() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Override
    public HookResult onDataPost(HookContext ctx) {
        long size = ctx.transaction().size();
        if (size > maxSize) {
            ctx.log(LogLevel.INFO, "skip: " + size + " octets is over max.size");
            return HookResult.declined();
        }
        byte[] message;
        try (InputStream in = ctx.transaction().message()) {
            message = in.readAllBytes();
        } catch (IOException e) {
            ctx.log(LogLevel.ERROR, "cannot read the message: " + e);
            return HookResult.declined();
        }
        CompletableFuture<HookResult> answer = ask(message).handle((response, error) -> {
            if (error != null) {
                ctx.log(LogLevel.WARN, "spamd at " + host + ":" + port + " failed, message not scanned: " + error);
                return HookResult.declined();
            }
            return judge(ctx, SpamdVerdict.parse(response));
        });
        return HookResult.later(answer);
    }

    private HookResult judge(HookContext ctx, SpamdVerdict verdict) {
        MessageHeader header = ctx.transaction().header().orElseThrow();
        header.remove("X-Spam-Flag");
        header.remove("X-Spam-Status");
        if (verdict.spam()) {
            header.prepend("X-Spam-Flag", "YES");
        }
        header.prepend("X-Spam-Status", verdict.status());
        ctx.log(LogLevel.INFO, (verdict.spam() ? "fail: " : "pass: ") + verdict.status());
        if (rejectScore > 0 && verdict.score() >= rejectScore) {
            return HookResult.deny("This message is considered spam (score " + verdict.score() + ")");
        }
        return HookResult.declined();
    }

    /** Sends a SYMBOLS request; completes with spamd's whole response (it closes the connection after it). */
    private CompletableFuture<String> ask(byte[] message) {
        CompletableFuture<String> response = new CompletableFuture<>();
        ByteBuf request = Unpooled.wrappedBuffer(("SYMBOLS SPAMC/1.5\r\nContent-length: " + message.length + "\r\nUser: " + user
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII), message);
        Bootstrap bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                            private final ByteBuf received = Unpooled.buffer();

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf chunk) {
                                if (received.readableBytes() + chunk.readableBytes() > 1 << 20) {
                                    response.completeExceptionally(new IOException("spamd's answer is over 1 MB"));
                                    ctx.close();
                                    return;
                                }
                                received.writeBytes(chunk);
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                response.complete(received.toString(StandardCharsets.ISO_8859_1));
                                received.release();
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                response.completeExceptionally(cause);
                                ctx.close();
                            }
                        });
                    }
                });
        ChannelFuture connect = bootstrap.connect(host, port);
        connect.addListener(done -> {
            if (done.isSuccess()) {
                connect.channel().writeAndFlush(request);
                connect.channel().eventLoop().schedule(() -> {
                    if (!response.isDone()) {
                        response.completeExceptionally(new IOException("no answer within " + timeoutMillis + " ms"));
                        connect.channel().close();
                    }
                }, timeoutMillis, TimeUnit.MILLISECONDS);
            } else {
                request.release();
                response.completeExceptionally(done.cause());
            }
        });
        return response;
    }
}
