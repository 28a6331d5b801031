/** Small helpers to write ONNX graphs with onnx-proto (the upscaler converter, the tiny test models). */
import pkg from 'onnx-proto';

export const { onnx } = pkg;
export type NodeProto = InstanceType<typeof onnx.NodeProto>;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;
export type ValueInfoProto = InstanceType<typeof onnx.ValueInfoProto>;

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const INT32 = onnx.TensorProto.DataType.INT32;

export function node(
  op: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, number | number[] | string> = {},
  name?: string,
): NodeProto {
  const attribute = Object.entries(attributes).map(([key, value]) => {
    if (typeof value === 'string')
      return onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) });
    if (Array.isArray(value)) return onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.INTS, ints: value });
    return Number.isInteger(value)
      ? onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.INT, i: value })
      : onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.FLOAT, f: value });
  });
  return onnx.NodeProto.create({ opType: op, input: inputs, output: outputs, name: name ?? `/${outputs[0]}/${op}`, attribute });
}

export function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice(),
  });
}

export function int64Tensor(name: string, values: number[]): TensorProto {
  const raw = new BigInt64Array(values.map((v) => BigInt(v)));
  return onnx.TensorProto.create({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(raw.buffer) });
}

export function valueInfo(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
}

export function modelBytes(
  graph: { name: string; nodes: NodeProto[]; initializers: TensorProto[]; inputs: ValueInfoProto[]; outputs: ValueInfoProto[] },
  producer: string,
  opset = 17,
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: producer,
    opsetImport: [{ domain: '', version: opset }],
    graph: { name: graph.name, node: graph.nodes, initializer: graph.initializers, input: graph.inputs, output: graph.outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}
