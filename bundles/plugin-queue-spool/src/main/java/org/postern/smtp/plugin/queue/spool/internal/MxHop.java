package org.postern.smtp.plugin.queue.spool.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.MxRecord;
import org.postern.smtp.api.dns.Resolver;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Envelope;
import org.postern.smtp.client.MessageSource;
import org.postern.smtp.client.Reply;
import org.postern.smtp.client.SmtpClient;
import org.postern.smtp.client.TlsPolicy;

/**
 * Each recipient domain's own mail servers (RFC 5321 5.1): its MX hosts by preference, or, when it has no MX, the
 * domain itself; a null MX (RFC 7505) bounces. Names are looked up with the server's {@link Resolver}, and the
 * addresses of the hosts are tried in turn (IPv4 first, at most {@value #MOST_ADDRESSES} of them, as Postfix's
 * {@code smtp_mx_address_limit}) until one takes a transaction; a server that fails before MAIL passes the message
 * to the next one. An address literal ({@code user@[192.0.2.1]}) is delivered to that address.
 */
final class MxHop implements NextHop {
    static final int MOST_ADDRESSES = 5;
    private final Supplier<Resolver> resolver;
    private final SmtpClient client;
    private final int port;
    private final TlsPolicy tls;

    /** @param resolver the resolver service, or null while there is none */
    MxHop(Supplier<Resolver> resolver, SmtpClient client, int port, TlsPolicy tls) {
        this.resolver = resolver;
        this.client = client;
        this.port = port;
        this.tls = tls;
    }

    @Override
    public String destinationOf(String recipient) {
        return recipient.substring(recipient.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
    }

    private record Host(String name, List<InetAddress> addresses, boolean lookupFailed) {
    }

    private record Server(String name, InetAddress address) {
    }

    @Override
    public CompletionStage<Attempt> deliver(String domain, Envelope envelope, MessageSource message, String heloName, BooleanSupplier commit) {
        List<String> recipients = envelope.recipients();
        if (domain.startsWith("[") && domain.endsWith("]")) {
            String literal = domain.substring(1, domain.length() - 1).replaceFirst("(?i)^ipv6:", "");
            return tryServers(List.of(new Server(literal, null)), 0, envelope, message, heloName, commit);
        }
        Resolver dns = resolver.get();
        if (dns == null) {
            return CompletableFuture.completedFuture(Attempt.deferred(recipients, Reply.of(451, "4.4.3", "No DNS resolver service to look up " + domain)));
        }
        return dns.mx(domain).handle((records, error) -> error != null
                ? CompletableFuture.completedFuture(Attempt.deferred(recipients, dnsFailure("MX", domain, error)))
                : toServers(dns, domain, records, envelope, message, heloName, commit)).thenCompose(Function.identity());
    }

    private CompletionStage<Attempt> toServers(Resolver dns, String domain, List<MxRecord> records, Envelope envelope, MessageSource message,
            String heloName, BooleanSupplier commit) {
        List<String> recipients = envelope.recipients();
        if (records.stream().anyMatch(MxRecord::isNullMx)) {
            return CompletableFuture.completedFuture(Attempt.failed(recipients,
                    Reply.of(556, "5.1.10", "Recipient address rejected: " + domain + " accepts no mail (null MX)")));
        }
        boolean implicit = records.isEmpty();
        List<String> names = implicit ? List.of(domain) : records.stream().map(MxRecord::exchange).toList();
        return lookUp(dns, names).thenCompose(hosts -> {
            List<Server> servers = new ArrayList<>();
            hosts.forEach(host -> host.addresses().forEach(address -> servers.add(new Server(host.name(), address))));
            if (!servers.isEmpty()) {
                return tryServers(servers.subList(0, Math.min(MOST_ADDRESSES, servers.size())), 0, envelope, message, heloName, commit);
            }
            boolean failed = hosts.stream().anyMatch(Host::lookupFailed);
            if (implicit && !failed) {
                return CompletableFuture.completedFuture(Attempt.failed(recipients,
                        Reply.of(550, "5.1.2", "Host or domain name not found: " + domain + " has no MX, A or AAAA record")));
            }
            return CompletableFuture.completedFuture(Attempt.deferred(recipients, Reply.of(451, "4.4.3",
                    (failed ? "DNS lookup failed for the mail servers of " : "No address for the mail servers of ") + domain)));
        });
    }

    private static Reply dnsFailure(String type, String name, Throwable error) {
        DnsFailure failure = DnsFailure.in(error);
        return Reply.of(451, "4.4.3", "DNS lookup of " + type + " " + name + " failed: " + (failure != null ? failure.getMessage() : error.toString()));
    }

    /** Each name's IPv4 then IPv6 addresses, in the names' order; a name whose lookups both failed is marked so. */
    private static CompletionStage<List<Host>> lookUp(Resolver dns, List<String> names) {
        List<CompletableFuture<Host>> hosts = new ArrayList<>();
        for (String name : names) {
            CompletableFuture<List<InetAddress>> v4 = dns.ipv4(name).toCompletableFuture().exceptionally(error -> null);
            CompletableFuture<List<InetAddress>> v6 = dns.ipv6(name).toCompletableFuture().exceptionally(error -> null);
            hosts.add(v4.thenCombine(v6, (four, six) -> {
                List<InetAddress> addresses = new ArrayList<>();
                if (four != null) {
                    addresses.addAll(four);
                }
                if (six != null) {
                    addresses.addAll(six);
                }
                return new Host(name, addresses, four == null && six == null);
            }));
        }
        return CompletableFuture.allOf(hosts.toArray(CompletableFuture[]::new)).thenApply(done -> hosts.stream().map(CompletableFuture::join).toList());
    }

    /** Sends to the servers in turn while each fails before MAIL; the last one's result stands. */
    private CompletionStage<Attempt> tryServers(List<Server> servers, int index, Envelope envelope, MessageSource message, String heloName,
            BooleanSupplier commit) {
        Server server = servers.get(index);
        String host = server.address() == null ? server.name() : server.address().getHostAddress();
        Destination destination = Destination.smtp(host, port).withTls(tls, null).withHeloName(heloName);
        return client.send(destination, envelope, message, commit).thenCompose(delivery -> {
            if (delivery.stage().isSetup() && index + 1 < servers.size()) {
                return tryServers(servers, index + 1, envelope, message, heloName, commit);
            }
            return CompletableFuture.completedFuture(Attempt.of(delivery, "dns; " + server.name()));
        });
    }
}
