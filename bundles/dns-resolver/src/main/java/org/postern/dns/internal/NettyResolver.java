package org.postern.dns.internal;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DnsServerAddressStream;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.dns.DnsNames;
import org.postern.smtp.api.dns.MxRecord;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.api.monitor.PeerCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's {@link Resolver}, on Netty's asynchronous DNS client with one I/O thread of its own. A changed
 * configuration takes effect at once for new lookups; lookups already asked finish on the old settings, whose
 * client closes once they have had their time. As a {@link PeerCheck} it tells health checks whether its servers
 * answer.
 */
@Component(service = {Resolver.class, PeerCheck.class}, configurationPid = NettyResolver.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = NettyResolver.Config.class)
public final class NettyResolver implements Resolver, PeerCheck {
    static final String PID = "org.postern.dns";
    private static final Logger LOG = LoggerFactory.getLogger(NettyResolver.class);

    private static final Lookups.Kind<InetAddress> A = new Lookups.Kind<>(DnsRecordType.A, Records::address);
    private static final Lookups.Kind<InetAddress> AAAA = new Lookups.Kind<>(DnsRecordType.AAAA, Records::address);
    private static final Lookups.Kind<MxRecord> MX = new Lookups.Kind<>(DnsRecordType.MX, Records::mx);
    private static final Lookups.Kind<String> TXT = new Lookups.Kind<>(DnsRecordType.TXT, Records::txt);
    private static final Lookups.Kind<String> PTR = new Lookups.Kind<>(DnsRecordType.PTR, Records::ptr);
    /** What the probe asks: a name every resolver answers itself (RFC 6761 6.3), or at least answers NXDOMAIN for. */
    private static final String PROBE_NAME = "localhost.";

    @ObjectClassDefinition(name = "Postern DNS resolver", description = "The DNS resolver the core and every plugin use")
    public @interface Config {
        @AttributeDefinition(description = "DNS servers as host or host:port, asked in this order; empty for the system's (resolv.conf)")
        String[] nameservers() default {};

        @AttributeDefinition(description = "Milliseconds to wait for one server's answer before asking the next")
        long timeout_ms() default 5000;

        @AttributeDefinition(description = "Answers kept at most; past that the oldest go first")
        int cache_size() default 10_000;

        @AttributeDefinition(description = "Seconds an answer is kept at least, whatever its TTL")
        long min_ttl() default 0;

        @AttributeDefinition(description = "Seconds an answer is kept at most, whatever its TTL")
        long max_ttl() default 86_400;

        @AttributeDefinition(description = "Seconds a missing name or record is remembered at most (RFC 2308)")
        long max_negative_ttl() default 3_600;

        @AttributeDefinition(description = "Answer reverse lookups of the addresses in /etc/hosts from it, before DNS, as the system resolver does")
        boolean hosts_file() default true;
    }

    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private volatile Lookups lookups;
    private volatile Map<InetAddress, String> hostsFileNames;

    @Activate
    public NettyResolver(Config config) {
        lookups = lookups(config);
        hostsFileNames = config.hosts_file() ? HostsFile.canonicalNames(HostsFile.SYSTEM) : Map.of();
        LOG.info("DNS resolver asking {}", lookups.servers());
    }

    @Modified
    void modified(Config config) {
        Lookups replaced = lookups;
        lookups = lookups(config);
        hostsFileNames = config.hosts_file() ? HostsFile.canonicalNames(HostsFile.SYSTEM) : Map.of();
        LOG.info("DNS resolver reconfigured, asking {}", lookups.servers());
        long grace = replaced.servers().size() * config.timeout_ms() + 1000;
        loop.schedule(replaced::close, grace, TimeUnit.MILLISECONDS);
    }

    @Deactivate
    void deactivate() {
        lookups.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private Lookups lookups(Config config) {
        ResolverSettings settings = new ResolverSettings(config.timeout_ms(), config.cache_size(), config.min_ttl(),
                config.max_ttl(), config.max_negative_ttl());
        return new Lookups(loop.next(), servers(config.nameservers()), settings);
    }

    @Override
    public CompletionStage<List<InetAddress>> ipv4(String name) {
        return lookups.lookup(name, A);
    }

    @Override
    public CompletionStage<List<InetAddress>> ipv6(String name) {
        return lookups.lookup(name, AAAA);
    }

    @Override
    public CompletionStage<List<MxRecord>> mx(String name) {
        return lookups.lookup(name, MX).thenApply(records -> records.stream()
                .sorted(Comparator.comparingInt(MxRecord::preference)).toList());
    }

    @Override
    public CompletionStage<List<String>> txt(String name) {
        return lookups.lookup(name, TXT);
    }

    @Override
    public CompletionStage<List<String>> ptr(InetAddress address) {
        String local = hostsFileNames.get(address);
        if (local != null) {
            return CompletableFuture.completedFuture(List.of(local));
        }
        String zone = address.getAddress().length == 4 ? ".in-addr.arpa" : ".ip6.arpa";
        return lookups.lookup(DnsNames.reversed(address) + zone, PTR);
    }

    @Override
    public String peer() {
        return "DNS " + String.join(", ", lookups.servers().stream().map(server -> (server.getHostString().indexOf(':') >= 0
                ? "[" + server.getHostString() + "]" : server.getHostString()) + ":" + server.getPort()).toList());
    }

    /**
     * Asks the servers, in their order and past the cache, for localhost's address, within {@code timeout}: any answer,
     * an empty one (NXDOMAIN) too, shows a server resolves; SERVFAIL, REFUSED or silence from every server fails.
     */
    @Override
    public CompletionStage<String> probe(Duration timeout) {
        return lookups.uncached(PROBE_NAME, A).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(answer -> PROBE_NAME + " A " + (answer.records().isEmpty() ? "(no address)"
                        : String.join(" ", answer.records().stream().map(address -> ((InetAddress) address).getHostAddress()).toList())));
    }

    /** The configured servers, or the system's when none are. */
    static List<InetSocketAddress> servers(String[] configured) {
        List<InetSocketAddress> servers = new ArrayList<>();
        for (String entry : configured) {
            String text = entry.strip();
            if (text.isEmpty()) {
                continue;
            }
            servers.add(server(text));
        }
        if (servers.isEmpty()) {
            DnsServerAddressStream system = DnsServerAddressStreamProviders.platformDefault().nameServerAddressStream("");
            for (int i = 0; i < system.size(); i++) {
                servers.add(system.next());
            }
        }
        return servers;
    }

    /** {@code host}, {@code host:port}, {@code [v6]:port} or a bare IPv6 address (port 53). */
    private static InetSocketAddress server(String text) {
        int colon = text.lastIndexOf(':');
        try {
            if (text.startsWith("[") && text.contains("]:")) {
                int close = text.indexOf("]:");
                return new InetSocketAddress(text.substring(1, close), Integer.parseInt(text.substring(close + 2)));
            }
            if (colon > 0 && text.indexOf(':') == colon) {
                return new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("nameservers: '" + text + "' has no valid port", e);
        }
        return new InetSocketAddress(text.startsWith("[") ? text.substring(1, text.length() - 1) : text, 53);
    }
}
