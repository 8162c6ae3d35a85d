// User directory backed by a (simulated) slow upstream service, with an in-process cache.
// The cache is keyed by the whole lookup request (user id plus the caller's request id, added
// "so concurrent lookups don't collide"), so nothing is ever a cache hit and every lookup adds
// a CachedUser that is never evicted.

export type UserId = string;

export interface Address {
  street: string;
  city: string;
  country: string;
}

export interface Profile {
  displayName: string;
  email: string;
  roles: string[];
  address: Address;
}

export interface LookupRequest {
  userId: UserId;
  requestId: string;
}

export class CachedUser {
  readonly fetchedAt = Date.now();

  constructor(
    readonly id: UserId,
    readonly profile: Profile,
    readonly permissions: ReadonlyArray<string>,
  ) {}
}

export class UserStore {
  private static readonly cache = new Map<string, CachedUser>();

  static async lookup(req: LookupRequest): Promise<CachedUser> {
    const key = `${req.userId}:${req.requestId}`;
    const hit = UserStore.cache.get(key);
    if (hit) return hit;
    const profile = await fetchProfile(req.userId);
    const user = new CachedUser(req.userId, profile, expandPermissions(profile.roles));
    UserStore.cache.set(key, user);
    return user;
  }

  static size(): number {
    return UserStore.cache.size;
  }
}

async function fetchProfile(id: UserId): Promise<Profile> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  return {
    displayName: `User ${id}`,
    email: `user${id}@example.com`,
    roles: ['reader', 'commenter', Number(id) % 7 === 0 ? 'admin' : 'member'],
    address: { street: `${id} Main Street`, city: 'Springfield', country: 'US' },
  };
}

function expandPermissions(roles: string[]): string[] {
  const perms: string[] = [];
  for (const role of roles) {
    for (const action of ['read', 'list', 'comment', 'export', 'share', 'delete']) {
      perms.push(`${role}:${action}`);
    }
  }
  return perms;
}
