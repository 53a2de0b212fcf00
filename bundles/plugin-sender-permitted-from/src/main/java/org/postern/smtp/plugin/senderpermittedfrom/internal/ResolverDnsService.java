package org.postern.smtp.plugin.senderpermittedfrom.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.james.jspf.core.DNSRequest;
import org.apache.james.jspf.core.DNSService;
import org.apache.james.jspf.core.exceptions.TimeoutException;
import org.postern.smtp.api.dns.DnsFailure;
import org.postern.smtp.api.dns.MxRecord;
import org.postern.smtp.api.dns.Resolver;

/**
 * jSPF's view of the DNS, answered by the server's resolver: jSPF's asynchronous executor asks through
 * {@link #getRecordsAsync} and carries on in the stage's completion, so no thread waits for an answer. A lookup the
 * DNS could not answer becomes jSPF's {@link TimeoutException}, which jSPF turns into {@code temperror}.
 */
final class ResolverDnsService implements DNSService {
    private static final String IPV4_REVERSE = ".in-addr.arpa";
    private static final String IPV6_REVERSE = ".ip6.arpa";
    private static final int PTR_NAMES_CHECKED = 10;

    private final Resolver resolver;

    ResolverDnsService(Resolver resolver) {
        this.resolver = resolver;
    }

    @Override
    public CompletionStage<List<String>> getRecordsAsync(DNSRequest request) {
        String name = request.getHostname();
        CompletionStage<List<String>> answers = switch (request.getRecordType()) {
            case DNSRequest.A -> resolver.ipv4(name).thenApply(ResolverDnsService::addresses);
            case DNSRequest.AAAA -> resolver.ipv6(name).thenApply(ResolverDnsService::addresses);
            case DNSRequest.MX -> resolver.mx(name).thenApply(records -> records.stream()
                    .filter(record -> !record.isNullMx()).map(MxRecord::exchange).toList());
            case DNSRequest.PTR -> reversed(name).thenCompose(resolver::ptr);
            case DNSRequest.TXT -> resolver.txt(name);
            // RFC 7208 3.1 retired the SPF record type: TXT records hold every policy
            default -> CompletableFuture.completedFuture(List.of());
        };
        CompletableFuture<List<String>> result = new CompletableFuture<>();
        answers.whenComplete((records, error) -> {
            if (error == null) {
                // jSPF takes names off the lists it is given (the mx mechanism's hosts one by one)
                result.complete(new ArrayList<>(records));
            } else {
                DnsFailure failure = DnsFailure.in(error);
                result.completeExceptionally(new TimeoutException(failure != null ? failure.getMessage() : error.toString()));
            }
        });
        return result;
    }

    private static List<String> addresses(List<InetAddress> addresses) {
        return addresses.stream().map(InetAddress::getHostAddress).toList();
    }

    /** The address a reverse name ({@code 4.3.2.1.in-addr.arpa}, or nibbles under {@code ip6.arpa}) stands for. */
    static CompletableFuture<InetAddress> reversed(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        String[] labels;
        int width;
        if (lower.endsWith(IPV4_REVERSE)) {
            labels = lower.substring(0, lower.length() - IPV4_REVERSE.length()).split("\\.");
            width = 4;
        } else if (lower.endsWith(IPV6_REVERSE)) {
            labels = lower.substring(0, lower.length() - IPV6_REVERSE.length()).split("\\.");
            width = 32;
        } else {
            labels = new String[0];
            width = -1;
        }
        if (labels.length != width) {
            return CompletableFuture.failedFuture(new UnknownHostException("not a reverse name: " + name));
        }
        byte[] address = new byte[width == 4 ? 4 : 16];
        try {
            for (int i = 0; i < labels.length; i++) {
                int label = Integer.parseInt(labels[labels.length - 1 - i], width == 4 ? 10 : 16);
                if (width == 4) {
                    address[i] = (byte) label;
                } else {
                    address[i / 2] |= (byte) (i % 2 == 0 ? label << 4 : label);
                }
            }
            return CompletableFuture.completedFuture(InetAddress.getByAddress(address));
        } catch (NumberFormatException | UnknownHostException e) {
            return CompletableFuture.failedFuture(new UnknownHostException("not a reverse name: " + name));
        }
    }

    /** Only jSPF's synchronous executor asks this way; the plugin uses the asynchronous one. */
    @Override
    public List<String> getRecords(DNSRequest request) {
        throw new UnsupportedOperationException("synchronous DNS lookups would block a thread");
    }

    /** None: jSPF then expands the receiving domain macro {@code %{r}} to {@code unknown}, as RFC 7208 7.3 allows. */
    @Override
    public List<String> getLocalDomainNames() {
        return List.of();
    }

    /** The server's resolver has its own timeout ({@code timeout.ms} of {@code org.postern.dns}). */
    @Override
    public void setTimeOut(int timeOut) {
    }

    /** RFC 7208 4.6.4: the ptr mechanism looks at no more than 10 of the client's names. */
    @Override
    public int getRecordLimit() {
        return PTR_NAMES_CHECKED;
    }

    /** RFC 7208's limit is kept. */
    @Override
    public void setRecordLimit(int recordLimit) {
    }
}
