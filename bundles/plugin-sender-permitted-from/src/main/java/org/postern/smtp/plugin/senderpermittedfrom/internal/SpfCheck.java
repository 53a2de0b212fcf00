package org.postern.smtp.plugin.senderpermittedfrom.internal;

import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.james.jspf.executor.AsynchronousSPFExecutor;
import org.apache.james.jspf.executor.FutureSPFResult;
import org.apache.james.jspf.impl.SPF;
import org.postern.smtp.api.dns.Resolver;

/**
 * RFC 7208's check_host() for a MAIL FROM identity, by Apache James jSPF, whose asynchronous executor asks the
 * server's resolver and goes on in each answer's completion: the check holds no thread while it waits.
 */
final class SpfCheck {
    /** jSPF's header text: the result, its comment in parentheses (after a tag), then the key-value pairs. */
    private static final Pattern HEADER_TEXT = Pattern.compile("^\\S+ \\((?:spfCheck: )?(.*)\\) client-ip=.*$", Pattern.DOTALL);

    /** The result code (pass, fail, softfail, neutral, none, permerror, temperror) and why, in words. */
    record Result(String code, String why) {
    }

    private final SPF spf;

    SpfCheck(Resolver resolver) {
        ResolverDnsService dns = new ResolverDnsService(resolver);
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        // jSPF loads its table of mechanisms through the context class loader, which in OSGi does not see this bundle
        thread.setContextClassLoader(SPF.class.getClassLoader());
        try {
            spf = new SPF(dns, new AsynchronousSPFExecutor(dns));
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Checks whether the client's address may send mail from this sender, saying {@code helo} in HELO. */
    CompletableFuture<Result> check(String clientIp, String sender, String helo) {
        CompletableFuture<Result> result = new CompletableFuture<>();
        FutureSPFResult pending = (FutureSPFResult) spf.checkSPF(clientIp, sender, helo);
        pending.addListener(done -> result.complete(new Result(done.getResult(), why(done))));
        return result;
    }

    private static String why(FutureSPFResult done) {
        Matcher comment = HEADER_TEXT.matcher(done.getHeaderText());
        return comment.matches() ? comment.group(1) : done.getResult();
    }
}
