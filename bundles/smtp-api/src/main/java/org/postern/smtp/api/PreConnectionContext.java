package org.postern.smtp.api;

import org.osgi.annotation.versioning.ProviderType;

/** Context of {@code pre_connection}: connection counts for load management. */
@ProviderType
public interface PreConnectionContext extends HookContext {
    /** Open connections from this client's IP address, this one included. */
    int connectionsFromRemoteIp();

    /** Open connections to this server, this one included. */
    int connections();
}
