package org.postern.smtp.plugin.dnsbl.internal;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.resolver.dns.NoopDnsCache;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.RcptContext;
import org.postern.smtp.api.RcptHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Refuses the recipients of a client whose IP address is listed in a DNS blocklist, as qpsmtpd's
 * {@code dnsbl}: the lookups go out in parallel through Netty's asynchronous resolver and the hook answers
 * {@link HookResult#later} when they are back, so no thread waits for DNS. The verdict is kept for the
 * session. Authenticated clients are never refused; a DNS failure lets mail through (and is logged).
 */
@Component(service = RcptHook.class, configurationPid = Dnsbl.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = Dnsbl.Config.class)
@PosternPlugin("dnsbl")
@PosternHook("rcpt")
@HookOrder(200)
public final class Dnsbl implements RcptHook {
    static final String PID = "org.postern.smtp.plugin.dnsbl";
    private static final NoteKey<String> VERDICT = NoteKey.of("dnsbl.listing", String.class);

    @ObjectClassDefinition(name = "Postern plugin: dnsbl")
    public @interface Config {
        @AttributeDefinition(description = "Blocklist zones, e.g. zen.spamhaus.org")
        String[] zones();

        @AttributeDefinition(description = "DNS servers as host:port; empty for the system's (resolv.conf)")
        String[] nameservers() default {};

        @AttributeDefinition(description = "Milliseconds to wait for one DNS answer")
        int timeout_ms() default 3000;

        @AttributeDefinition(description = "Refuse with a temporary failure (450) instead of a permanent one (550)")
        boolean soft() default false;
    }

    private final List<String> zones;
    private final boolean soft;
    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final DnsNameResolver resolver;

    @Activate
    public Dnsbl(Config config) {
        zones = List.of(config.zones()).stream().map(String::strip).filter(zone -> !zone.isEmpty()).toList();
        soft = config.soft();
        resolver = new DnsNameResolverBuilder(loop.next())
                .datagramChannelType(NioDatagramChannel.class)
                .nameServerProvider(nameServers(config.nameservers()))
                .queryTimeoutMillis(config.timeout_ms())
                .resolveCache(NoopDnsCache.INSTANCE)
                .build();
    }

    @Deactivate
    void deactivate() {
        resolver.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Override
    public HookResult onRcpt(RcptContext ctx) {
        if (ctx.session().authenticatedUser().isPresent() || zones.isEmpty()) {
            return HookResult.declined();
        }
        var known = ctx.session().notes().get(VERDICT);
        if (known.isPresent()) {
            return verdict(known.get());
        }
        InetAddress client = ctx.session().remoteAddress().getAddress();
        String reversed = reversed(client);
        List<CompletableFuture<String>> lookups = new ArrayList<>();
        for (String zone : zones) {
            lookups.add(listedIn(reversed + "." + zone, zone, ctx));
        }
        CompletableFuture<HookResult> answer = CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(v -> {
            String listing = lookups.stream().map(CompletableFuture::join).filter(zone -> !zone.isEmpty())
                    .findFirst().map(zone -> client.getHostAddress() + " is listed in " + zone).orElse("");
            ctx.session().notes().put(VERDICT, listing);
            ctx.log(LogLevel.INFO, listing.isEmpty() ? "pass: not listed" : "fail: " + listing);
            return verdict(listing);
        });
        return HookResult.later(answer);
    }

    private HookResult verdict(String listing) {
        if (listing.isEmpty()) {
            return HookResult.declined();
        }
        String text = "Blocked: " + listing;
        return soft ? HookResult.denySoft(text) : HookResult.deny(text);
    }

    /** The zone when the name has an A record in 127.0.0.0/8 (a listing), else the empty string. */
    private CompletableFuture<String> listedIn(String name, String zone, RcptContext ctx) {
        CompletableFuture<String> listed = new CompletableFuture<>();
        resolver.resolveAll(name).addListener(done -> {
            if (done.isSuccess()) {
                @SuppressWarnings("unchecked")
                List<InetAddress> addresses = (List<InetAddress>) done.getNow();
                boolean listing = addresses.stream().anyMatch(a -> a instanceof Inet4Address && a.getAddress()[0] == 127);
                listed.complete(listing ? zone : "");
            } else {
                if (!(done.cause() instanceof UnknownHostException)) {
                    ctx.log(LogLevel.WARN, "lookup of " + name + " failed: " + done.cause());
                }
                listed.complete("");
            }
        });
        return listed;
    }

    /** The DNSBL query prefix of an address: reversed octets for IPv4, reversed nibbles for IPv6 (RFC 5782). */
    static String reversed(InetAddress address) {
        byte[] bytes = address.getAddress();
        StringBuilder name = new StringBuilder();
        if (address instanceof Inet6Address) {
            for (int i = bytes.length - 1; i >= 0; i--) {
                name.append(Character.forDigit(bytes[i] & 0xf, 16)).append('.').append(Character.forDigit((bytes[i] >> 4) & 0xf, 16));
                if (i > 0) {
                    name.append('.');
                }
            }
            return name.toString();
        }
        for (int i = bytes.length - 1; i >= 0; i--) {
            name.append(bytes[i] & 0xff);
            if (i > 0) {
                name.append('.');
            }
        }
        return name.toString();
    }

    private static DnsServerAddressStreamProvider nameServers(String[] configured) {
        List<InetSocketAddress> servers = new ArrayList<>();
        for (String server : configured) {
            String text = server.strip();
            if (text.isEmpty()) {
                continue;
            }
            int colon = text.lastIndexOf(':');
            servers.add(colon > 0 && text.indexOf(':') == colon
                    ? new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)))
                    : new InetSocketAddress(text, 53));
        }
        return servers.isEmpty() ? DnsServerAddressStreamProviders.platformDefault()
                : new SequentialDnsServerAddressStreamProvider(servers.toArray(InetSocketAddress[]::new));
    }
}
