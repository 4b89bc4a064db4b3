// aws-local-stepfunctions@3 calls Promise.withResolvers, which Node 20 lacks (Node >= 22 has it).
type Resolvers<T> = {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
};
const promiseStatic = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof promiseStatic.withResolvers !== 'function') {
  promiseStatic.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
