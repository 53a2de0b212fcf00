package org.postern.smtp.api.dns;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The server's DNS resolver, an OSGi service that plugins reference instead of building their own. Every
 * lookup is asynchronous (no thread waits for an answer), bounded by the resolver's timeout, and answered
 * from a cache for the record's TTL. Names are always queried as absolute names: no search domain is ever
 * appended, so {@code 2.0.0.127.zen.spamhaus.org} is asked as written.
 *
 * <p>A name that does not exist (NXDOMAIN) or has no records of the type asked completes with an empty list:
 * that is an answer, not a failure. A lookup the DNS could not answer (timeout, SERVFAIL, REFUSED, a server
 * unreachable) completes exceptionally with a {@link DnsFailure}; each plugin then does what its
 * configuration says (defer or let the mail through). Stages complete on the resolver's I/O thread: a plugin
 * that does blocking work with an answer moves it elsewhere.
 */
@ProviderType
public interface Resolver {
    /** The IPv4 addresses of a name (its A records). */
    CompletionStage<List<InetAddress>> ipv4(String name);

    /** The IPv6 addresses of a name (its AAAA records). */
    CompletionStage<List<InetAddress>> ipv6(String name);

    /** The MX records of a name, lowest preference first. */
    CompletionStage<List<MxRecord>> mx(String name);

    /** The TXT records of a name, each one's strings joined as RFC 7208 3.3 says. */
    CompletionStage<List<String>> txt(String name);

    /** The names of an address's PTR records (reverse DNS), without the trailing dot. */
    CompletionStage<List<String>> ptr(InetAddress address);
}
