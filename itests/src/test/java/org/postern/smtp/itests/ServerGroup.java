package org.postern.smtp.itests;

import java.util.ArrayList;
import java.util.List;
import org.junit.rules.ExternalResource;

/**
 * The servers a test class starts, as a {@code @ClassRule}: each one added is stopped after the class, also when a
 * later one failed to start.
 */
final class ServerGroup extends ExternalResource {
    private final List<ServerProcess> servers = new ArrayList<>();

    ServerProcess add(ServerProcess server) {
        servers.add(server);
        return server;
    }

    @Override
    protected void after() {
        for (ServerProcess server : servers) {
            try {
                server.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
