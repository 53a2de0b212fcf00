package org.postern.smtp.core.internal.protocol;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** The client's names from reverse DNS (PTR), which a session asks for before {@code pre_connection}. */
@FunctionalInterface
public interface ReverseLookup {
    /** No lookup: no resolver is installed, or the lookup is switched off. */
    ReverseLookup NONE = address -> CompletableFuture.completedFuture(List.of());

    CompletionStage<List<String>> names(InetAddress address);
}
